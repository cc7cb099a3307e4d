package helmvalues

import "context"

// objects is a Reader over objects a test declares, keyed "Kind/name". It
// counts the reads of each object and fails those named in fail.
type objects struct {
	data  map[string]map[string]string
	fail  map[string]error
	reads map[string]int
}

func (o *objects) Get(_ context.Context, kind, name string) (map[string][]byte, bool, error) {
	id := kind + "/" + name
	if o.reads == nil {
		o.reads = map[string]int{}
	}
	o.reads[id]++
	if err := o.fail[id]; err != nil {
		return nil, false, err
	}
	d, ok := o.data[id]
	if !ok {
		return nil, false, nil
	}
	out := make(map[string][]byte, len(d))
	for k, v := range d {
		out[k] = []byte(v)
	}
	return out, true, nil
}

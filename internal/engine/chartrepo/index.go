package chartrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Entry is one chart version of an index, in the compact form the cache
// keeps: what a HelmChart needs to pick and download a version.
type Entry struct {
	// Name is the chart name (the key of the index's entries).
	Name string
	// Version is the version as the index writes it ("1.2.3", "v1.2.3").
	Version string
	// AppVersion is the entry's appVersion, "" for none.
	AppVersion string
	// URLs are the chart archive's addresses, relative to the repository
	// URL or absolute; DownloadChart uses the first.
	URLs []string
	// Digest is the archive's SHA-256 in hex ("" when the index has none).
	Digest string
	// Created is the entry's creation time as written, "" for none.
	Created string
	// Deprecated marks a chart its publisher deprecated.
	Deprecated bool
}

// Index is a parsed Helm repository index: chart names sorted, each
// chart's versions newest first by semver. Entries whose version is not
// semver are left out, as Helm leaves them out. An Index is immutable and
// safe for concurrent use.
type Index struct {
	url        string
	apiVersion string
	names      []string
	charts     map[string][]Entry
	skipped    int
	// raw is the canonical serialisation, nil in a compact copy.
	raw    []byte
	digest string
}

// entryFields are the fields of an index entry this package reads; the
// others are kept verbatim in the canonical bytes.
type entryFields struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	AppVersion string   `json:"appVersion"`
	URLs       []string `json:"urls"`
	Digest     string   `json:"digest"`
	Created    string   `json:"created"`
	Deprecated bool     `json:"deprecated"`
}

// parsedEntry is an entry with its parsed version and original JSON.
type parsedEntry struct {
	Entry
	v   *semver.Version
	raw json.RawMessage
}

// ParseIndex parses the index.yaml (or JSON) data served at url, or stored
// as an artifact, sorts it and computes its canonical bytes and digest. url
// is only used in errors and must carry no credentials.
func ParseIndex(url string, data []byte) (*Index, error) {
	fail := func(kind error, detail string, err error) error {
		return &Error{Kind: kind, URL: url, Detail: detail, Err: err}
	}
	d, err := decodeIndex(data)
	switch {
	case errors.Is(err, errNotMapping):
		return nil, fail(ErrNotYAML, errNotMapping.Error(), nil)
	case errors.Is(err, errEntriesShape):
		return nil, fail(ErrInvalidIndex, errEntriesShape.Error(), nil)
	case errors.Is(err, ErrTooLarge):
		return nil, fail(ErrTooLarge, "", err)
	case err != nil:
		return nil, fail(ErrNotYAML, "", err)
	}
	idx := &Index{url: url, charts: map[string][]Entry{}}
	if err := json.Unmarshal(d.top["apiVersion"], &idx.apiVersion); err != nil || idx.apiVersion == "" {
		return nil, fail(ErrInvalidIndex, "no apiVersion: not a Helm repository index", nil)
	}
	kept := make(map[string][]json.RawMessage, len(d.entries))
	for name, list := range d.entries {
		parsed := make([]parsedEntry, 0, len(list))
		for _, raw := range list {
			var f entryFields
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fail(ErrInvalidIndex, fmt.Sprintf("an entry of chart '%s' is not a chart version", name), err)
			}
			v, err := semver.NewVersion(f.Version)
			if err != nil {
				idx.skipped++
				continue
			}
			parsed = append(parsed, parsedEntry{Entry: Entry{
				Name: name, Version: f.Version, AppVersion: f.AppVersion, URLs: f.URLs,
				Digest: f.Digest, Created: f.Created, Deprecated: f.Deprecated,
			}, v: v, raw: raw})
		}
		if len(parsed) == 0 {
			continue
		}
		slices.SortStableFunc(parsed, newestFirst)
		out := make([]Entry, len(parsed))
		raws := make([]json.RawMessage, len(parsed))
		for i, p := range parsed {
			out[i], raws[i] = p.Entry, p.raw
		}
		idx.charts[name] = out
		idx.names = append(idx.names, name)
		kept[name] = raws
	}
	slices.Sort(idx.names)
	idx.canonical(d, kept)
	return idx, nil
}

// newestFirst orders versions from newest to oldest; equal versions
// written differently ("1.0.0", "v1.0.0") by their text, so the order is
// stable whatever order the index lists them in.
func newestFirst(a, b parsedEntry) int {
	if c := b.v.Compare(a.v); c != 0 {
		return c
	}
	return strings.Compare(a.Version, b.Version)
}

// canonical sets raw and digest: the index as compact JSON (which is YAML,
// and what Flux stores too), the top-level fields as served, the entries
// sorted, every mapping's keys sorted. The same content gives the same
// bytes, and digest, however the server orders or formats it.
func (idx *Index) canonical(d *decoded, entries map[string][]json.RawMessage) {
	keys := make([]string, 0, len(d.top)+1)
	for k := range d.top {
		keys = append(keys, k)
	}
	if d.hasEntries || len(entries) > 0 {
		keys = append(keys, "entries")
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		if k != "entries" {
			b.Write(d.top[k])
			continue
		}
		b.WriteByte('{')
		for j, name := range idx.names {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, name)
			b.WriteString(":[")
			for n, raw := range entries[name] {
				if n > 0 {
					b.WriteByte(',')
				}
				b.Write(raw)
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
	}
	b.WriteString("}\n")
	idx.raw = b.Bytes()
	sum := sha256.Sum256(idx.raw)
	idx.digest = "sha256:" + hex.EncodeToString(sum[:])
}

// writeJSONString writes s as a JSON string.
func writeJSONString(b *bytes.Buffer, s string) {
	js, _ := json.Marshal(s) // a string always marshals
	b.Write(js)
}

// URL returns the URL the index was read from.
func (idx *Index) URL() string { return idx.url }

// APIVersion returns the index's apiVersion.
func (idx *Index) APIVersion() string { return idx.apiVersion }

// Digest returns "sha256:<hex>" of the canonical bytes: the revision of a
// HelmRepository's artifact. A compact copy keeps it.
func (idx *Index) Digest() string { return idx.digest }

// Bytes returns the canonical serialisation (sorted YAML, the content of
// the stored index artifact); nil for a compact copy. Callers must not
// modify it.
func (idx *Index) Bytes() []byte { return idx.raw }

// Charts returns the chart names, sorted.
func (idx *Index) Charts() []string { return slices.Clone(idx.names) }

// Len returns the number of chart versions kept.
func (idx *Index) Len() int {
	n := 0
	for _, list := range idx.charts {
		n += len(list)
	}
	return n
}

// Skipped returns how many entries were left out for a version that is
// not semver.
func (idx *Index) Skipped() int { return idx.skipped }

// Versions returns the versions of chart, newest first, as the index
// writes them; an *Error of kind ErrChartNotFound when there is none.
func (idx *Index) Versions(chart string) ([]string, error) {
	list, ok := idx.charts[chart]
	if !ok {
		return nil, &Error{Kind: ErrChartNotFound, URL: idx.url, Chart: chart}
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Version
	}
	return out, nil
}

// Get returns the entry of chart at version: the one written exactly so,
// or else the newest one with the same semver ("v1.0.0" for "1.0.0"). Its
// errors are of kind ErrChartNotFound or ErrNoVersion.
func (idx *Index) Get(chart, version string) (Entry, error) {
	list, ok := idx.charts[chart]
	if !ok {
		return Entry{}, &Error{Kind: ErrChartNotFound, URL: idx.url, Chart: chart}
	}
	for _, e := range list {
		if e.Version == version {
			return cloneEntry(e), nil
		}
	}
	if want, err := semver.NewVersion(version); err == nil {
		for _, e := range list {
			if v, err := semver.NewVersion(e.Version); err == nil && v.Equal(want) {
				return cloneEntry(e), nil
			}
		}
	}
	return Entry{}, &Error{Kind: ErrNoVersion, URL: idx.url, Chart: chart, Version: version}
}

// Compact returns a copy without the canonical bytes: what the cache keeps
// (chart names, versions, URLs, digests), sharing the entries.
func (idx *Index) Compact() *Index {
	c := *idx
	c.raw = nil
	return &c
}

func cloneEntry(e Entry) Entry {
	e.URLs = slices.Clone(e.URLs)
	return e
}

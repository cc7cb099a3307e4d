package web

// Scoped is a Store that may see only some namespaces: `flux ui` under a
// user who may not list cluster-wide runs its informers per namespace. The
// pages say so rather than let an empty list pass for "nothing there".
type Scoped interface {
	// Namespaces are the namespaces the store watches when it does not
	// watch the whole cluster; limited is false when it does (and then
	// namespaces is empty). why says, for the page, why it is limited.
	Namespaces() (namespaces []string, limited bool, why string)
}

// scopeNotice is what a page says of a limited store, "" otherwise.
func scopeNotice(st Store) string {
	sc, ok := st.(Scoped)
	if !ok {
		return ""
	}
	namespaces, limited, why := sc.Namespaces()
	if !limited {
		return ""
	}
	msg := "showing namespace"
	if len(namespaces) != 1 {
		msg += "s"
	}
	for i, ns := range namespaces {
		if i > 0 {
			msg += ","
		}
		msg += " " + ns
	}
	if why != "" {
		msg += ": " + why
	}
	return msg
}

// Troubled is a Store that can tell when what it holds may be stale: `flux
// ui`'s informers while the API server does not answer.
type Troubled interface {
	// Problem is why the store may be stale, "" when it is not.
	Problem() string
}

// troubleNotice is what a page says of a troubled store, "" otherwise.
func troubleNotice(st Store) string {
	if t, ok := st.(Troubled); ok {
		return t.Problem()
	}
	return ""
}

package web

import (
	"html/template"
	"net/url"

	"github.com/driftless/driftless/internal/kinds"
)

// pageNames are the pages under templates/, each parsed with the layout
// and the shared partials into its own set, so that each can define its
// own "content".
var pageNames = []string{"overview", "object", "graph", "notfound", "login", "denied"}

func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		funcs := template.FuncMap{"csrfField": csrfField, "pageSize": func() int { return inventoryPageSize }}
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(files,
			"templates/layout.html", "templates/partials.html", "templates/inventory.html", "templates/lookup.html",
			"templates/events.html", "templates/"+name+".html"))
	}
	return pages
}

// objectPath is the object page of obj: /o/{group}/{kind}/{namespace}/{name}.
func objectPath(k kinds.Kind, namespace, name string) string {
	return "/o/" + url.PathEscape(k.Group) + "/" + url.PathEscape(k.Kind) + "/" +
		url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

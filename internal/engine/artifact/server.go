package artifact

import (
	"net/http"
	"os"
	"strings"
	"syscall"
)

// NewHandler serves the files of the storage over HTTP, as Flux's artifact
// server does, with stricter rules:
//
//   - GET and HEAD only (405 otherwise);
//   - regular files only: no directory listings, 404 for anything missing;
//   - no path escape: ".." segments and encoded slashes are refused (400),
//     and a symbolic link is followed only while it stays inside the root;
//   - names starting with "." (lock files, temporary files) are never served.
func NewHandler(s *Storage) http.Handler {
	return &fileHandler{root: s.root}
}

type fileHandler struct {
	root string
}

func (h *fileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, status := requestedFile(r)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	root, err := os.OpenRoot(h.root)
	if err != nil {
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	// Opening through the root refuses any symbolic link that leads out of
	// it; O_NONBLOCK keeps a named pipe from blocking the request.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// Missing, or a link leading out of the root: not found either way.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, info.Name(), info.ModTime(), f)
}

// requestedFile returns the slash-separated path of the requested file
// relative to the root, or the status to answer with.
func requestedFile(r *http.Request) (string, int) {
	escaped := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(escaped, "%2f") || strings.Contains(escaped, "%5c") || strings.Contains(escaped, "%00") {
		return "", http.StatusBadRequest
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "" {
		return "", http.StatusNotFound
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "..", seg == ".", strings.ContainsAny(seg, "\\\x00"):
			return "", http.StatusBadRequest
		case seg == "", strings.HasPrefix(seg, "."):
			return "", http.StatusNotFound
		}
	}
	return p, 0
}

package s3test

import (
	"net/http"
	"net/http/httputil"
	"net/url"
)

// upstream is a reverse proxy to the server that keeps the Host header the
// client sent: SigV4 signs it, so the server must see the proxy's host:port
// the client signed, not its own. The S3 server (versitygw) checks only the
// signature, not that Host names it.
func (s *Server) upstream() *httputil.ReverseProxy {
	target, err := url.Parse(s.URL)
	if err != nil {
		panic("s3test: the server URL does not parse: " + err.Error())
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.TLSClientConfig = s.TLSConfig()
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
	}
}

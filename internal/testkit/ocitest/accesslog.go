package ocitest

import (
	"net/url"
	"regexp"
	"strconv"
)

// accessLine matches the Apache combined log format the registry writes
// for every request (gorilla/handlers' CombinedLoggingHandler):
//
//	127.0.0.1 - - [02/Jan/2006:15:04:05 -0700] "GET /v2/ HTTP/1.1" 200 2 "" "crane/v0.22.1"
var accessLine = regexp.MustCompile(`^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)"`)

func parseAccessLine(line string) (Request, bool) {
	m := accessLine.FindStringSubmatch(line)
	if m == nil {
		return Request{}, false
	}
	status, _ := strconv.Atoi(m[3])
	ua, err := strconv.Unquote(`"` + m[4] + `"`)
	if err != nil {
		ua = m[4]
	}
	return Request{Method: m[1], URI: m[2], Status: status, UserAgent: ua}, true
}

// markOf returns N for the marker request GET /v2/?ocitest-mark=N.
func markOf(uri string) (int, bool) {
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.Path != "/v2/" {
		return 0, false
	}
	v := u.Query().Get("ocitest-mark")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Package gittest runs real Git servers for tests: bare repositories on disk
// driven by the git binary, smart HTTP through git http-backend (with basic,
// bearer and TLS client authentication), and an SSH server that executes
// git-upload-pack and git-receive-pack. It also generates the keys and
// certificates those servers and signed commits need.
//
// Everything listens on 127.0.0.1 and is torn down with the test.
package gittest

// Package layering states and checks the import rules that keep Driftless's
// layers apart: the API types and the engines stay plain Go without
// controller-runtime, and the flux command line never links the controller
// manager. Check is a pure function over an import graph; Load reads the
// graph of this module from `go list -deps -json`, so a test in this package
// fails the build (make test, .ci/run) the moment a rule is broken.
package layering

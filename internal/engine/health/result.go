package health

import "fmt"

// State is the readiness of one object, with kstatus meanings.
type State string

const (
	// InProgress: the object has not reached the state its spec asks for.
	InProgress State = "InProgress"
	// Current: the object has reached the state its spec asks for.
	Current State = "Current"
	// Failed: the object hit an error or stopped making progress.
	Failed State = "Failed"
	// Terminating: the object is being deleted.
	Terminating State = "Terminating"
	// NotFound: the object does not exist.
	NotFound State = "NotFound"
	// Unknown: the state cannot be told (a malformed status, or the object
	// has not been read yet).
	Unknown State = "Unknown"
)

// Result is the readiness of one object and a message saying why.
type Result struct {
	Status  State
	Message string
}

func inProgress(format string, args ...any) Result { return result(InProgress, format, args...) }
func current(format string, args ...any) Result    { return result(Current, format, args...) }
func failed(format string, args ...any) Result     { return result(Failed, format, args...) }

func result(s State, format string, args ...any) Result {
	if len(args) == 0 {
		return Result{Status: s, Message: format}
	}
	return Result{Status: s, Message: fmt.Sprintf(format, args...)}
}

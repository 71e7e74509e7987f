package meta

import (
	"errors"
	"net/http"
)

// kindError is a sentinel error that belongs to a broader class, so that
// errors.Is matches both the precise error and its class.
type kindError struct {
	msg    string
	parent error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.parent }

// Sentinel errors of the directory. Callers branch on them with errors.Is;
// the HTTP server maps each to a status and an OpenIO code (see codeOf), and
// the client maps them back.
var (
	// ErrInvalid is the class of every bad-input error: nothing was changed.
	ErrInvalid = errors.New("invalid request")
	// ErrInvalidName reports an empty, oversized, non-UTF-8 or NUL-holding
	// account, container or object name.
	ErrInvalidName error = &kindError{"invalid name", ErrInvalid}
	// ErrInvalidProperty reports a property key or value out of bounds, or
	// too many properties.
	ErrInvalidProperty error = &kindError{"invalid property", ErrInvalid}
	// ErrUnknownPolicy reports a storage policy the namespace does not have.
	ErrUnknownPolicy error = &kindError{"unknown storage policy", ErrInvalid}
	// ErrTooLarge reports a request body or header over its bound.
	ErrTooLarge error = &kindError{"request too large", ErrInvalid}

	// ErrNoSuchAccount reports an unknown account.
	ErrNoSuchAccount = errors.New("no such account")
	// ErrNoSuchContainer reports an unknown container.
	ErrNoSuchContainer = errors.New("no such container")
	// ErrNoSuchObject reports an unknown object or object version, or one
	// whose latest version is a delete marker.
	ErrNoSuchObject = errors.New("no such object")
	// ErrNoSuchService reports a service the registry does not know.
	ErrNoSuchService = errors.New("no such service")
	// ErrNoRoute reports a request the server has no route for: a 404 with
	// OpenIO's generic code 404, which a directory gives for a route it
	// does not know and a reverse index for every route of a directory. It
	// says nothing of the object asked for: the URL is likely not that of
	// a directory.
	ErrNoRoute = errors.New("no such route")

	// ErrExists reports an object version or content id already present.
	ErrExists = errors.New("content already exists")
	// ErrContainerNotEmpty reports the destruction of a container that
	// still holds objects, versions or delete markers.
	ErrContainerNotEmpty = errors.New("container not empty")
	// ErrNotEnoughServices reports that placement found fewer distinct,
	// live, non-full services than the storage policy needs.
	ErrNotEnoughServices = errors.New("not enough services for the storage policy")
	// ErrChunkConflict reports a chunk update (see ChunkUpdate) that does
	// not fit the object's chunks as they are: the entry to replace is
	// gone, the new one is already there, the position would end up with
	// no copy or more copies than its policy keeps, or a copy would be
	// added at a position that has none.
	ErrChunkConflict = errors.New("chunk entries changed")
)

// OpenIO error codes carried in the "status" field of error bodies. The
// Python client tells containers from objects by them on a 404.
const (
	codeBadRequest        = 400
	codeNotFound          = 404
	codeServiceNotFound   = 405
	codeAccountNotFound   = 409
	codeContentNotFound   = 420
	codeContentExists     = 421
	codeContainerNotFound = 431
	codeContainerNotEmpty = 438
	codePolicyUnknown     = 480
	codePolicyUnsatisfied = 481
	codeInternal          = 500
)

// errorCodes lists, most precise first, how a sentinel travels over HTTP.
var errorCodes = []struct {
	err    error
	status int
	code   int
}{
	{ErrUnknownPolicy, http.StatusBadRequest, codePolicyUnknown},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, codeBadRequest},
	{ErrInvalid, http.StatusBadRequest, codeBadRequest},
	{ErrNoSuchAccount, http.StatusNotFound, codeAccountNotFound},
	{ErrNoSuchContainer, http.StatusNotFound, codeContainerNotFound},
	{ErrNoSuchObject, http.StatusNotFound, codeContentNotFound},
	{ErrNoSuchService, http.StatusNotFound, codeServiceNotFound},
	{ErrNoRoute, http.StatusNotFound, codeNotFound},
	{ErrExists, http.StatusConflict, codeContentExists},
	{ErrContainerNotEmpty, http.StatusConflict, codeContainerNotEmpty},
	{ErrNotEnoughServices, http.StatusServiceUnavailable, codePolicyUnsatisfied},
	{ErrChunkConflict, http.StatusPreconditionFailed, http.StatusPreconditionFailed},
}

// Missing reports whether err says that an object, its container or its
// account does not exist, rather than that the question could not be
// answered.
func Missing(err error) bool {
	return errors.Is(err, ErrNoSuchObject) || errors.Is(err, ErrNoSuchContainer) ||
		errors.Is(err, ErrNoSuchAccount)
}

// codeOf returns the HTTP status and OpenIO code for err.
func codeOf(err error) (status, code int) {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, codeInternal
}

// errorFor returns the sentinel that an HTTP status and OpenIO code stand
// for, or nil when none does.
func errorFor(status, code int) error {
	switch {
	case status == http.StatusNotFound && (code == codeContainerNotFound || code == 406):
		return ErrNoSuchContainer
	case status == http.StatusNotFound && code == codeAccountNotFound:
		return ErrNoSuchAccount
	case status == http.StatusNotFound && code == codeServiceNotFound:
		return ErrNoSuchService
	case status == http.StatusNotFound && code == codeNotFound:
		return ErrNoRoute
	case status == http.StatusNotFound && code != 0:
		// A 404 without an OpenIO code did not come from the directory
		// (a proxy in the way, a wrong address): not an answer about
		// the object.
		return ErrNoSuchObject
	case status == http.StatusBadRequest && code == codePolicyUnknown:
		return ErrUnknownPolicy
	case status == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case status == http.StatusBadRequest:
		return ErrInvalid
	case status == http.StatusConflict && code == codeContainerNotEmpty:
		return ErrContainerNotEmpty
	case status == http.StatusConflict:
		return ErrExists
	case status == http.StatusServiceUnavailable && code == codePolicyUnsatisfied:
		return ErrNotEnoughServices
	case status == http.StatusPreconditionFailed:
		return ErrChunkConflict
	}
	return nil
}

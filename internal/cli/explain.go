package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gridkeep/gridkeep/internal/meta"
	"github.com/gridkeep/gridkeep/internal/object"
	"github.com/gridkeep/gridkeep/internal/rawx"
	"github.com/gridkeep/gridkeep/internal/shell"
)

// explainedError gives err a message that says what failed, on what, and
// what to do. It unwraps to err, so exit codes do not change.
type explainedError struct {
	msg string
	err error
}

func (e explainedError) Error() string { return e.msg }
func (e explainedError) Unwrap() error { return e.err }

// request is what a client command asked the directory, for its error
// messages.
type request struct {
	op      string      // what the command does: "get", "ls", "create container"
	name    object.Name // what it does it on, as far as given
	version int64       // the version asked for; 0 for the latest
	proxy   string      // the directory's URL
}

// target returns the name the command acted on: ACCOUNT, ACCOUNT/CONTAINER
// or ACCOUNT/CONTAINER/OBJECT.
func (r request) target() string {
	s := r.name.Account
	if r.name.Container != "" {
		s += "/" + r.name.Container
	}
	if r.name.Path != "" {
		s += "/" + r.name.Path
	}
	return s
}

// explain returns err with a clearer message when its cause is a common
// one: an interrupt, an unreachable directory, an unknown account,
// container, object or version, a storage policy the namespace lacks or
// cannot satisfy, a request the directory refused, a chunk server at
// fault. Other errors are returned as they are. An interrupt exits with
// ExitUsage, as one of check or rebuild does.
func (r request) explain(err error) error {
	if err == nil {
		return err
	}
	if errors.Is(err, context.Canceled) {
		// Only an interrupt cancels the context of a command.
		msg := fmt.Sprintf("%s %s: interrupted: the %s did not finish", r.op, r.target(), r.op)
		return exitError{ExitUsage, explainedError{msg + leftChunks(err, msg), err}}
	}
	n := r.name
	container := n.Account + "/" + n.Container
	var msg string
	var me *meta.Error
	switch {
	case errors.Is(err, object.ErrGone):
		msg = "the object was deleted while it was read: what was written out is only a part of it"
	case errors.Is(err, object.ErrIncomplete) && errors.Is(err, rawx.ErrNoAddress):
		msg = fmt.Sprintf("%v (a chunk server that holds copies of it is not running: "+
			"`gridkeep up --rawx N` serves the volumes rawx-1 to rawx-N of its data folder)",
			trimOp(err, r))
	case errors.Is(err, object.ErrIncomplete):
		// The chunk servers, not the directory: keep the details.
		msg = fmt.Sprintf("%v (`gridkeep check object %s` tells which copies are lost or damaged, "+
			"`gridkeep rebuild` restores them from a healthy copy)", trimOp(err, r), shell.Arg(r.target()))
	case r.unreachable(err) != "":
		msg = fmt.Sprintf("cannot reach the directory at %s: %s (is `gridkeep up` running? "+
			"--proxy or GRIDKEEP_PROXY gives its URL)", r.proxy, r.unreachable(err))
	case errors.Is(err, meta.ErrNoRoute) && errors.As(err, &me):
		msg = fmt.Sprintf("%s has no route for this request (%s): it may not be a gridkeep or OpenIO "+
			"directory (--proxy or GRIDKEEP_PROXY gives the directory's URL, the one `gridkeep up` "+
			"prints)", r.proxy, me.Message)
	case errors.Is(err, meta.ErrNoSuchAccount):
		msg = fmt.Sprintf("no such account %s (an account is created with its first container: "+
			"`gridkeep container create %s`)", n.Account, shell.Arg(n.Account+"/CONTAINER"))
	case errors.Is(err, meta.ErrNoSuchContainer) && r.op == "container delete":
		msg = "no such container " + container
	case errors.Is(err, meta.ErrNoSuchContainer):
		msg = fmt.Sprintf("no such container %s (create it with `gridkeep container create %s`)",
			container, shell.Arg(container))
	case errors.Is(err, meta.ErrContainerNotEmpty):
		msg = fmt.Sprintf("container %s is not empty (`gridkeep ls --versions %s` lists what it "+
			"holds, `gridkeep rm` deletes it)", container, shell.Arg(container))
	case errors.Is(err, meta.ErrNoSuchObject) && r.version != 0 && r.op == "rm":
		// rm --version removes a delete marker too.
		msg = fmt.Sprintf("no version %d of this object (`gridkeep ls --versions %s` lists its versions)",
			r.version, shell.Arg(r.target()))
	case errors.Is(err, meta.ErrNoSuchObject) && r.version != 0:
		msg = fmt.Sprintf("no version %d of this object, or that version is a delete marker "+
			"(`gridkeep ls --versions %s` lists its versions)", r.version, shell.Arg(r.target()))
	case errors.Is(err, meta.ErrNoSuchObject):
		msg = fmt.Sprintf("no such object, or its latest version is a delete marker "+
			"(`gridkeep ls --versions %s` lists its versions)", shell.Arg(r.target()))
	case errors.Is(err, meta.ErrUnknownPolicy) && errors.As(err, &me):
		msg = fmt.Sprintf("%s (the standard ones are %s)", lastPart(me.Message, "unknown storage policy"),
			strings.Join(standardPolicies(), ", "))
	case errors.Is(err, meta.ErrNotEnoughServices) && errors.As(err, &me):
		msg = fmt.Sprintf("%s (each copy of a chunk needs its own chunk server: start more, "+
			"or choose a policy with fewer copies)", me.Message)
	case errors.As(err, &me) && me.NoReason():
		msg = fmt.Sprintf("%s replied %d %s, with no reason: it may not be a gridkeep or OpenIO "+
			"directory (--proxy or GRIDKEEP_PROXY gives the directory's URL, the one `gridkeep up` "+
			"prints)", r.proxy, me.Status, http.StatusText(me.Status))
	case errors.Is(err, meta.ErrInvalid) && errors.As(err, &me) &&
		strings.Contains(me.Message, "unknown namespace"):
		msg = "refused by the directory: " + me.Message + " (--ns or GRIDKEEP_NS names the namespace)"
	case errors.Is(err, meta.ErrInvalid) && errors.As(err, &me):
		msg = "refused by the directory: " + me.Message
	case errors.As(err, &me):
		msg = me.Error() // without the request's method and URL
	default:
		return err
	}
	msg = r.op + " " + r.target() + ": " + msg
	return explainedError{msg + leftChunks(err, msg), err}
}

// leftChunks returns what err says of the chunks a failed put could not
// delete, as "; ..." to end msg with, unless msg says it already.
func leftChunks(err error, msg string) string {
	var left *object.LeftChunks
	if !errors.As(err, &left) || strings.Contains(msg, left.Error()) {
		return ""
	}
	return "; " + left.Error()
}

// unreachable returns why the directory could not be reached, or "" when
// err does not come from a failed connection to it.
func (r request) unreachable(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	at, err1 := url.Parse(ue.URL)
	proxy, err2 := url.Parse(r.proxy)
	if err1 != nil || err2 != nil || at.Host != proxy.Host {
		return "" // a chunk server, not the directory
	}
	var oe *net.OpError
	if errors.As(ue.Err, &oe) {
		return oe.Err.Error()
	}
	return ue.Err.Error()
}

// trimOp removes the "get NAME: " prefix the object client puts before
// its errors, which explain writes itself.
func trimOp(err error, r request) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, r.op+" "+r.target()+": "); ok {
		return rest
	}
	return s
}

// lastPart returns s from the last occurrence of sub, or s when sub is not
// in it: the end of a directory message is the precise reason.
func lastPart(s, sub string) string {
	if i := strings.LastIndex(s, sub); i >= 0 {
		return s[i:]
	}
	return s
}

func standardPolicies() []string {
	names := make([]string, len(meta.StandardPolicies))
	for i, p := range meta.StandardPolicies {
		names[i] = p.Name
	}
	return names
}

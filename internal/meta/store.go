package meta

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"

	"github.com/gridkeep/gridkeep/internal/event"
)

// Store keeps accounts, containers, objects and their chunk locations.
// Containers are named by their container id (chunk.ContainerID of the
// account and container names) everywhere but at creation.
//
// Every mutation checks its input first and returns an error of class
// ErrInvalid, changing nothing, when it is bad. Every mutation writes the
// events announcing it to the store's outbox in the same transaction, so a
// committed change never loses its event. Implementations are safe for
// concurrent use.
type Store interface {
	// Namespace returns the configuration the store applies.
	Namespace() Namespace

	// CreateAccount creates an account; created is false when it existed.
	CreateAccount(ctx context.Context, name string) (created bool, err error)
	// Account returns an account and its counters.
	Account(ctx context.Context, name string) (*Account, error)
	// ListAccounts lists accounts by name.
	ListAccounts(ctx context.Context, opts PageOptions) (*AccountList, error)
	// ListContainers lists an account's containers by name, without their
	// properties.
	ListContainers(ctx context.Context, account string, opts PageOptions) (*ContainerList, error)

	// CreateContainer creates a container, and its account when it is the
	// first; created is false, and nothing changes, when it existed.
	CreateContainer(ctx context.Context, spec ContainerSpec) (created bool, err error)
	// Container returns a container with all its properties.
	Container(ctx context.Context, cid string) (*Container, error)
	// FindContainers returns the containers called name in any account,
	// without their properties: a bucket is named without its account.
	FindContainers(ctx context.Context, name string) ([]Container, error)
	// UpdateContainer changes a container's properties.
	UpdateContainer(ctx context.Context, cid string, u ContainerUpdate) error
	// DestroyContainer removes an empty container (ErrContainerNotEmpty
	// otherwise).
	DestroyContainer(ctx context.Context, cid string) error

	// PutObject stores a new object version and returns it with the
	// store's defaults filled in. Versions beyond the container's
	// versioning policy are removed, each announced as deleted.
	PutObject(ctx context.Context, cid string, o *Object) (*Object, error)
	// Object returns one object version with its properties and chunks.
	Object(ctx context.Context, cid string, q ObjectQuery) (*Object, error)
	// ListObjects returns one page of a container's objects.
	ListObjects(ctx context.Context, cid string, opts ListOptions) (*ObjectList, error)
	// UpdateObject changes the properties of one object version.
	UpdateObject(ctx context.Context, cid string, q ObjectQuery, u PropertyUpdate) error
	// DeleteObject deletes an object: version 0 means the latest, which
	// a versioned container hides behind a new delete marker instead;
	// another version is removed for good.
	DeleteObject(ctx context.Context, cid, name string, version int64) (DeleteResult, error)

	// UpdateChunk applies u to the chunks of the object version with
	// content id u.ContentID (see ChunkUpdate and ApplyChunkUpdate), and
	// announces the object as updated. It fails with ErrChunkConflict,
	// changing nothing, when u does not fit the chunks as they are, so
	// that a caller repeating an update it may already have made learns
	// it, and never leaves two entries for one copy or none for a
	// metachunk.
	UpdateChunk(ctx context.Context, cid string, u ChunkUpdate) error
	// ChunkOwners returns the entries, in any container, that list a
	// chunk of id chunkID on any chunk server (however its URL is spelled),
	// with the object versions holding them: the owners of a chunk whose
	// own attributes do not say, before it is called an orphan. At most
	// MaxChunkOwners, ordered by container and content id.
	ChunkOwners(ctx context.Context, chunkID string) ([]ChunkOwner, error)

	// Pending and Done give the outbox to an event relay.
	event.Outbox

	// Close releases the store.
	Close() error
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id that events
// written on its behalf will name.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, if any.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewContentID returns a new content id: 32 uppercase hex digits, those of
// a version 7 UUID (RFC 9562), which begins with the time in milliseconds.
// Ids made one after the other sort in that order, so the indexes keyed by
// content id (the directory's chunks and object versions, rdir's listing
// by content) grow at their end, where the pages written are shared and
// stay cached, instead of at random places.
func NewContentID() string {
	id, err := uuid.NewV7()
	if err != nil {
		panic("content id: " + err.Error()) // crypto/rand does not fail
	}
	return strings.ToUpper(hex.EncodeToString(id[:]))
}

// BaseName returns the meta2 base name of a container, "<CID>.1", the
// value of sys.name.
func BaseName(cid string) string { return cid + ".1" }

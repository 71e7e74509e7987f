package event

import (
	"encoding/json"
	"time"
)

// Event types, as OpenIO names them.
const (
	ChunkNew           = "storage.chunk.new"
	ChunkDeleted       = "storage.chunk.deleted"
	ContainerNew       = "storage.container.new"
	ContainerDeleted   = "storage.container.deleted"
	ContainerState     = "storage.container.state"
	ContainerUpdate    = "storage.container.update"
	ContentAppend      = "storage.content.append"
	ContentBroken      = "storage.content.broken"
	ContentDeleted     = "storage.content.deleted"
	ContentDrained     = "storage.content.drained"
	ContentUpdate      = "storage.content.update"
	ContentNew         = "storage.content.new"
	ContentRebuilt     = "storage.content.rebuilt"
	ContentTransitions = "storage.content.transitioned"
	AccountServices    = "account.services"
	XcuteTasks         = "xcute.tasks"
)

// ContainerEvents are the container event types.
var ContainerEvents = []string{ContainerDeleted, ContainerNew, ContainerState, ContainerUpdate}

// ContentEvents are the content (object) event types.
var ContentEvents = []string{ContentAppend, ContentBroken, ContentDeleted, ContentNew,
	ContentRebuilt, ContentUpdate}

// Event is the JSON envelope of every OpenIO event. When is in microseconds
// since the epoch. Data is kept raw: its shape depends on the type.
type Event struct {
	Type      string          `json:"event"`
	When      int64           `json:"when"`
	URL       *URL            `json:"url,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Origin    string          `json:"origin,omitempty"`
	Part      *int            `json:"part,omitempty"`
	Parts     *int            `json:"parts,omitempty"`
	Data      json.RawMessage `json:"data"`
	Repli     json.RawMessage `json:"repli,omitempty"`
}

// URL says which namespace item an event is about. Every value is a string,
// Version included; keys are present only when set.
type URL struct {
	NS      string `json:"ns,omitempty"`
	Account string `json:"account,omitempty"`
	User    string `json:"user,omitempty"` // container name
	ID      string `json:"id,omitempty"`   // container id
	Path    string `json:"path,omitempty"`
	Content string `json:"content,omitempty"` // content id
	Version string `json:"version,omitempty"`
	Bucket  string `json:"bucket,omitempty"`
	Shard   *URL   `json:"shard,omitempty"`
}

// Now returns the current time in the envelope's unit, microseconds.
func Now() int64 { return time.Now().UnixMicro() }

// ChunkData is the data of storage.chunk.new and storage.chunk.deleted
// events, sent by chunk servers. Every value is a string, possibly empty.
type ChunkData struct {
	VolumeID             string `json:"volume_id"`
	VolumeServiceID      string `json:"volume_service_id"`
	FullPath             string `json:"full_path"`
	ContainerID          string `json:"container_id"`
	ContentPath          string `json:"content_path"`
	ContentVersion       string `json:"content_version"`
	ContentID            string `json:"content_id"`
	ContentStoragePolicy string `json:"content_storage_policy"`
	MetachunkHash        string `json:"metachunk_hash"`
	MetachunkSize        string `json:"metachunk_size"`
	ChunkID              string `json:"chunk_id"`
	ContentChunkMethod   string `json:"content_chunk_method"`
	ChunkPosition        string `json:"chunk_position"`
	ChunkHash            string `json:"chunk_hash"`
	ChunkSize            string `json:"chunk_size"`
}

// Volume returns the reverse-index volume the chunk event is about: the
// service id when the chunk server has one, else its address.
func (d ChunkData) Volume() string {
	if d.VolumeServiceID != "" {
		return d.VolumeServiceID
	}
	return d.VolumeID
}

// Publisher sends events. Implementations say whether Publish is durable
// when it returns; all are safe for concurrent use.
type Publisher interface {
	Publish(ev Event) error
}

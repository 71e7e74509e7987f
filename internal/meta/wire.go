package meta

// JSON shapes of the proxy API, shared by the server and the client.

// wireContainerBody is the body of container create and set_properties.
type wireContainerBody struct {
	Properties map[string]string `json:"properties"`
	System     map[string]string `json:"system"`
}

// wireProperties is the reply of container get_properties.
type wireProperties struct {
	Properties map[string]string `json:"properties"`
	System     map[string]string `json:"system,omitempty"`
}

// wireObject is an object in a container listing.
type wireObject struct {
	Name        string            `json:"name"`
	Version     int64             `json:"version"`
	CTime       int64             `json:"ctime"`
	MTime       int64             `json:"mtime"`
	Deleted     bool              `json:"deleted"`
	ID          string            `json:"id"`
	Policy      string            `json:"policy"`
	ChunkMethod string            `json:"chunk-method"`
	Hash        string            `json:"hash"`
	Size        int64             `json:"size"`
	MimeType    string            `json:"mime-type"`
	Properties  map[string]string `json:"properties,omitzero"`
	Chunks      []Chunk           `json:"chunks,omitzero"`
}

func toWireObject(o *Object) wireObject {
	w := wireObject{Name: o.Name, Version: o.Version, CTime: o.CTime, MTime: o.MTime,
		Deleted: o.Deleted, ID: o.ContentID, Policy: o.Policy, ChunkMethod: o.ChunkMethod,
		Hash: o.Hash, Size: o.Size, MimeType: o.MimeType, Properties: o.Properties,
		Chunks: o.Chunks}
	if o.Deleted {
		w.MimeType = DeletedMimeType
	}
	return w
}

func (w wireObject) object() Object {
	o := Object{Name: w.Name, Version: w.Version, CTime: w.CTime, MTime: w.MTime,
		Deleted: w.Deleted, ContentID: w.ID, Policy: w.Policy, ChunkMethod: w.ChunkMethod,
		Hash: w.Hash, Size: w.Size, MimeType: w.MimeType, Properties: w.Properties,
		Chunks: w.Chunks}
	if o.Deleted && o.MimeType == DeletedMimeType {
		o.MimeType = ""
	}
	return o
}

// wireList is the reply of container list.
type wireList struct {
	Prefixes   []string          `json:"prefixes"`
	Properties map[string]string `json:"properties"`
	System     map[string]string `json:"system"`
	Objects    []wireObject      `json:"objects"`
}

// wirePrepare is the body of content prepare2.
type wirePrepare struct {
	Size     int64  `json:"size"`
	Policy   string `json:"policy"`
	Position int64  `json:"position"`
}

// wirePrepared is the reply of content prepare2.
type wirePrepared struct {
	Chunks     []Chunk           `json:"chunks"`
	Properties map[string]string `json:"properties"`
}

// wireCreate is the body of content create.
type wireCreate struct {
	Chunks     []Chunk           `json:"chunks"`
	Properties map[string]string `json:"properties"`
}

// wireContentProperties is the body and reply of content properties.
type wireContentProperties struct {
	Properties map[string]string `json:"properties"`
}

// wireAccount is an account as the account service shows it; times are in
// seconds.
type wireAccount struct {
	ID         string            `json:"id"`
	CTime      float64           `json:"ctime"`
	MTime      float64           `json:"mtime"`
	Containers int64             `json:"containers"`
	Objects    int64             `json:"objects"`
	Bytes      int64             `json:"bytes"`
	Buckets    int64             `json:"buckets"`
	Metadata   map[string]string `json:"metadata"`
}

func toWireAccount(a *Account) wireAccount {
	return wireAccount{ID: a.Name, CTime: seconds(a.CTime), MTime: seconds(a.MTime),
		Containers: a.Containers, Objects: a.Objects, Bytes: a.Bytes, Buckets: a.Containers,
		Metadata: map[string]string{}}
}

func (w wireAccount) account() Account {
	return Account{Name: w.ID, CTime: micros(w.CTime), MTime: micros(w.MTime),
		Containers: w.Containers, Objects: w.Objects, Bytes: w.Bytes}
}

// wireAccountContainers is the reply of account containers: the account,
// then a listing of [name, objects, bytes, is_prefix, mtime] rows.
type wireAccountContainers struct {
	wireAccount
	Listing    [][]any `json:"listing"`
	Truncated  bool    `json:"truncated"`
	NextMarker string  `json:"next_marker,omitempty"`
}

// wireContainerShow is the reply of account container/show. Times are in
// seconds.
type wireContainerShow struct {
	Name               string           `json:"name"`
	Objects            int64            `json:"objects"`
	Bytes              int64            `json:"bytes"`
	CTime              float64          `json:"ctime"`
	MTime              float64          `json:"mtime"`
	ObjectsDetails     map[string]int64 `json:"objects-details"`
	BytesDetails       map[string]int64 `json:"bytes-details"`
	Region             string           `json:"region"`
	Bucket             string           `json:"bucket"`
	ReplicationEnabled bool             `json:"replication_enabled"`
}

// wireBucket is the reply of bucket show and update.
type wireBucket struct {
	Account            string            `json:"account"`
	Objects            int64             `json:"objects"`
	Bytes              int64             `json:"bytes"`
	Containers         int64             `json:"containers"`
	CTime              float64           `json:"ctime"`
	MTime              float64           `json:"mtime"`
	ReplicationEnabled bool              `json:"replication_enabled"`
	Metadata           map[string]string `json:"metadata"`
}

// wireBucketUpdate is the body of bucket update.
type wireBucketUpdate struct {
	Metadata map[string]string `json:"metadata"`
	ToDelete []string          `json:"to_delete"`
}

// wireService is a service as conscience routes show it: OpenIO's "addr",
// "score" and "tags" (with "tag.up" and "tag.service_id"), plus the
// registry's own fields.
type wireService struct {
	Type     string         `json:"type"`
	ID       string         `json:"id,omitempty"`
	Addr     string         `json:"addr"`
	Volume   string         `json:"volume,omitempty"`
	Free     int64          `json:"free"`
	Total    int64          `json:"total"`
	Score    int            `json:"score"`
	Alive    bool           `json:"alive"`
	LastSeen int64          `json:"last_seen,omitempty"`
	Tags     map[string]any `json:"tags,omitempty"`
}

// wireHeartbeat is the body of conscience heartbeat and deregister.
type wireHeartbeat struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Free  int64  `json:"free"`
	Total int64  `json:"total"`
}

// wireReference is the reply of reference/show.
type wireReference struct {
	Dir     []any        `json:"dir"`
	Srv     []wireLinked `json:"srv"`
	CID     string       `json:"cid"`
	Account string       `json:"account"`
	Name    string       `json:"name"`
}

// wireLinked is a service linked to a reference.
type wireLinked struct {
	Seq  int    `json:"seq"`
	Type string `json:"type"`
	Host string `json:"host"`
	Args string `json:"args"`
}

func seconds(us int64) float64 { return float64(us) / 1e6 }
func micros(s float64) int64   { return int64(s*1e6 + 0.5) }

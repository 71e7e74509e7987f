package rawx

// HTTP header names of the chunk API, in the canonical form Go's net/http
// uses, so that they can be set and read without canonicalisation.
const (
	HdrPrefix         = "X-Oio-Chunk-Meta-"
	HdrFullPath       = "X-Oio-Chunk-Meta-Full-Path"
	HdrContainerID    = "X-Oio-Chunk-Meta-Container-Id"
	HdrContentPath    = "X-Oio-Chunk-Meta-Content-Path"
	HdrContentVersion = "X-Oio-Chunk-Meta-Content-Version"
	HdrContentID      = "X-Oio-Chunk-Meta-Content-Id"
	HdrStoragePolicy  = "X-Oio-Chunk-Meta-Content-Storage-Policy"
	HdrChunkMethod    = "X-Oio-Chunk-Meta-Content-Chunk-Method"
	HdrChunkID        = "X-Oio-Chunk-Meta-Chunk-Id"
	HdrChunkPos       = "X-Oio-Chunk-Meta-Chunk-Pos"
	HdrChunkSize      = "X-Oio-Chunk-Meta-Chunk-Size"
	HdrChunkHash      = "X-Oio-Chunk-Meta-Chunk-Hash"
	HdrMetachunkSize  = "X-Oio-Chunk-Meta-Metachunk-Size"
	HdrMetachunkHash  = "X-Oio-Chunk-Meta-Metachunk-Hash"
	HdrNonOptimal     = "X-Oio-Chunk-Meta-Non-Optimal-Placement"
	HdrExtPrefix      = "X-Oio-Ext-"
	HdrCheckHash      = "X-Oio-Check-Hash"
	// HdrFileSize is gridkeep's: the size of a chunk file that holds more
	// bytes than a read expecting a size was served (see servedSize).
	HdrFileSize    = "X-Gridkeep-File-Size"
	HdrReqID       = "X-Oio-Req-Id"
	HdrTransID     = "X-Trans-Id"
	HdrDestination = "Destination"
)

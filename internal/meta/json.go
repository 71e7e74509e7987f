package meta

import fastjson "github.com/segmentio/encoding/json"

// unmarshal decodes JSON as encoding/json's Unmarshal does, with
// segmentio/encoding, which takes about a sixth of the time on a reply of
// 100 chunks (29 against 192 µs): requests, replies and events of the
// directory are decoded with it. They are still encoded with
// encoding/json, whose output, omitzero fields included, the wire format
// follows.
func unmarshal(data []byte, v any) error { return fastjson.Unmarshal(data, v) }

// Package event defines the OpenIO event envelope and its types, the bus
// that carries events between services, the outbox relay that makes sure
// no committed change loses its event, and the non-blocking publisher of
// chunk servers.
//
// # Envelope
//
// An Event is the JSON object OpenIO services exchange:
//
//	{"event": "storage.chunk.new", "when": 1700000000000000,
//	 "url": {...}, "request_id": "...", "data": {...}}
//
// Buses carry it as that JSON, so what a consumer decodes equals, as JSON,
// what was published.
//
// # Streams and subjects
//
// A Bus keeps one durable stream of events, addressed by type: an event of
// type T goes to the subject of T, and a consumer group names the types it
// wants (or all of them). On NATS JetStream (package natsbus) the stream is
// "OIO" and the subject of type T is "oio.T", for instance
// "oio.storage.chunk.new"; a group is a durable pull consumer of the same
// name filtered on the subjects of its types. Types are dot-separated
// tokens of letters, digits, '-' and '_' (CheckType), so each dot is a
// level of the subject hierarchy: "oio.storage.content.>" matches every
// content event.
//
// # Delivery guarantees
//
//   - Publish returns once the event is stored: it survives a restart of
//     the bus and reaches every consumer group, including groups that
//     start consuming later (a new group starts from the oldest event the
//     bus keeps; natsbus keeps events seven days by default).
//   - Each consumer group receives every event of its types; the members
//     of one group share them, each event going to one member at a time.
//   - Delivery is at least once. An event comes back when its handler
//     returns an error (after the group's Backoff), when the member handling
//     it stops or crashes before acknowledging it, or when an acknowledgement
//     is lost. After Group.MaxAttempts failed deliveries the event becomes a
//     dead letter: natsbus copies it, with the group, attempts and last
//     error in headers, to the subject "oio-dead.<group>" of the stream
//     "OIO_DEAD", logs it, and the group moves on.
//   - Order: a group with one member receives the events of one type in
//     the order they were published, as long as no handler fails. A retry
//     lets later events overtake the one retried, and members of one group
//     run concurrently, so handlers must not rely on order across events.
//
// # Idempotence
//
// Since any event may be handled twice, handlers must be idempotent: doing
// the work again must leave the same result. Index an entry with an upsert
// keyed by what the event is about (container and chunk id, not the time of
// delivery), delete what may already be gone without failing, and compare
// the event's "when" with the state to ignore an event older than what it
// would overwrite.
//
// # Outbox
//
// A service that changes metadata and must announce it, such as the
// directory, writes the event into an outbox table in the same database
// transaction as the change, so that either both commit or neither does.
// A Relay then publishes the outbox to the bus in order and removes what it
// published; the sqloutbox package provides the table over database/sql. A
// crash between publishing and removing only publishes some events again.
// Call Relay.Notify after each commit for low latency; the relay also polls.
//
// # Batches
//
// A steady flow of small events costs more in round trips and transactions
// than in work, so both ends take them in batches when the bus can
// (BatchPublisher, BatchConsumer; natsbus does both). The relay, having
// found work, lets the next events gather a few milliseconds
// (RelayOptions.Gather) and publishes them with one wait for all their
// acknowledgements. A batch consumer's handler receives the events that
// gathered for a few milliseconds after the first, so that, for instance,
// the rdir step writes them in one transaction per volume. Both add that
// delay to a busy flow and keep each event's guarantees: a failed batch is
// handed to the handler again one event at a time, so that only the events
// that fail alone are retried and become dead letters.
//
// # Chunk servers
//
// Chunk servers must not wait for the bus on the data path: AsyncPublisher
// queues events in a bounded backlog in memory and publishes them in the
// background with retries. When the backlog is full Publish fails at once
// and the caller counts the dropped event; the integrity crawler and rdir
// rebuilds repair what a lost chunk event leaves behind.
package event

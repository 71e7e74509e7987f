// Package natsbus is the event.Bus over NATS JetStream, the default event
// backend of gridkeep.
//
// Open starts a NATS server inside the process, with JetStream file
// storage in a data directory, and connects to it in-process: no port is
// opened unless ServerOptions.Listen asks for one (other processes then
// connect to Bus.URL). Dial connects to a NATS server or cluster that runs
// elsewhere; after connecting both take the same path. StartServer alone
// gives the embedded server to other users of NATS in the process.
//
// # Streams and subjects
//
//	stream    subjects          holds
//	OIO       oio.<type>        events, e.g. oio.storage.chunk.new
//	OIO_DEAD  oio-dead.<group>  events a group gave up on (dead letters)
//
// Both names change with Options.Stream and Options.Prefix. The streams
// are created, or their limits updated, every time a bus starts. They keep
// every event for Options.MaxAge (seven days by default) whether it was
// consumed or not, so that a consumer group created later, or down for a
// while, still finds the events it has not handled.
//
// A consumer group is a durable pull consumer named after the group,
// filtered on the subjects of its types, with explicit acknowledgement.
// A member fetches Options.Prefetch events ahead of its handler, tells the
// server the event is still in progress while the handler runs, waits for
// the server to record each acknowledgement, delays redeliveries with the
// group's Backoff (a negative acknowledgement with delay), and hands the
// events it fetched but did not handle back to the group when it stops. An
// event held by a member that vanished comes back after Options.AckWait.
//
// A member outlives the failures of its subscription that pass: when the
// server's heartbeats stop coming (the process or the server stalled, the
// network dropped traffic), the connection is lost for a while or the
// consumer is deleted under it, the member logs the failure and subscribes
// again after a short backoff, creating the consumer again if need be.
// Nothing is skipped: unacknowledged events are delivered again, and a
// consumer created again starts from the oldest event the stream keeps.
// Only the end of its context, Close, a connection closed for good, a
// deleted stream or a group the server refuses stop a member.
//
// # Dead letters
//
// When the handler fails on the group's last attempt (or the event is not
// valid JSON), the member publishes the event unchanged to the group's
// dead-letter subject, with the headers HeaderGroup, HeaderSubject,
// HeaderSequence, HeaderAttempts and HeaderError, then tells the server
// never to deliver it to the group again. Dead letters stay for MaxAge;
// to replay one, publish its data again as an event.
//
// # Durability
//
// Publish returns after the server stored the event. With file storage an
// event survives a crash of the process; to survive a power loss too, set
// ServerOptions.SyncAlways, at the price of one disk flush per event.
package natsbus

module github.com/gridkeep/gridkeep/bench

go 1.26.8

replace github.com/gridkeep/gridkeep => ../

require (
	github.com/dgraph-io/ristretto/v2 v2.4.2
	github.com/gridkeep/gridkeep v0.0.0-00010101000000-000000000000
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/maypok86/otter/v2 v2.4.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

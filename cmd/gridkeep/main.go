// Command gridkeep runs the services and maintenance tools of a gridkeep
// object-storage namespace. Each service or tool is a subcommand.
package main

import (
	"os"

	"github.com/gridkeep/gridkeep/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}

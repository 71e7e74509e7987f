package cli

import (
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gridkeep/gridkeep/internal/meta"
)

func newContainerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Create, show and change containers (buckets)",
	}
	cmd.AddCommand(newContainerCreateCommand(), newContainerShowCommand(), newContainerSetCommand())
	return cmd
}

// containerFlags are the settings create and set share.
type containerFlags struct {
	props       []string
	policy      string
	versions    string
	replication string
}

func (f *containerFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.props, "property", nil, "user property KEY=VALUE (repeatable)")
	fl.StringVar(&f.policy, "policy", "", "default storage policy of the container's objects")
	fl.StringVar(&f.versions, "versioning", "", "versions to keep: -1 all, 0 or 1 only the latest, N")
	fl.StringVar(&f.replication, "replication", "", "replicate the bucket's events: on or off")
}

// parse returns the user properties, system properties and bucket
// metadata the flags set.
func (f *containerFlags) parse() (props, system, bucket map[string]string, err error) {
	if props, err = parseProperties(f.props); err != nil {
		return nil, nil, nil, err
	}
	system = map[string]string{}
	if f.policy != "" {
		system[meta.SysPolicyStorage] = f.policy
	}
	if f.versions != "" {
		if _, err := strconv.ParseInt(f.versions, 10, 64); err != nil {
			return nil, nil, nil, usagef("--versioning %q is not an integer", f.versions)
		}
		system[meta.SysPolicyVersion] = f.versions
	}
	switch f.replication {
	case "":
	case "on", "off":
		bucket = map[string]string{meta.BucketReplicationEnabled: meta.FormatBool(f.replication == "on")}
	default:
		return nil, nil, nil, usagef("--replication %q: want on or off", f.replication)
	}
	return props, system, bucket, nil
}

func newContainerCreateCommand() *cobra.Command {
	var f containerFlags
	cmd := &cobra.Command{
		Use:   "create ACCOUNT/CONTAINER",
		Short: "Create a container; an existing one is left as it is",
		Long:  "Create a container; an existing one is left as it is." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	proxy := addProxyFlag(cmd)
	f.add(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, false)
		if err != nil {
			return err
		}
		props, system, bucket, err := f.parse()
		if err != nil {
			return err
		}
		dir, err := dirClient(*proxy)
		if err != nil {
			return err
		}
		created, err := dir.ContainerCreate(cmd.Context(), name.Account, name.Container, props, system)
		if err != nil {
			return err
		}
		if bucket != nil {
			if _, err := dir.BucketUpdate(cmd.Context(), name.Container, name.Account, bucket, nil); err != nil {
				return err
			}
		}
		what := "created"
		if !created {
			what = "already exists:"
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s/%s\n", what, name.Account, name.Container)
		return nil
	}
	return cmd
}

func newContainerSetCommand() *cobra.Command {
	var f containerFlags
	cmd := &cobra.Command{
		Use:   "set ACCOUNT/CONTAINER",
		Short: "Set properties, policies or replication of a container",
		Long:  "Set properties, policies or replication of a container." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	proxy := addProxyFlag(cmd)
	f.add(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, false)
		if err != nil {
			return err
		}
		props, system, bucket, err := f.parse()
		if err != nil {
			return err
		}
		if len(props) == 0 && len(system) == 0 && bucket == nil {
			return usageError{errNoChange}
		}
		dir, err := dirClient(*proxy)
		if err != nil {
			return err
		}
		if len(props) > 0 || len(system) > 0 {
			err := dir.ContainerSetProperties(cmd.Context(), name.Account, name.Container, props, system, false)
			if err != nil {
				return err
			}
		}
		if bucket != nil {
			if _, err := dir.BucketUpdate(cmd.Context(), name.Container, name.Account, bucket, nil); err != nil {
				return err
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "updated %s/%s\n", name.Account, name.Container)
		return nil
	}
	return cmd
}

func newContainerShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ACCOUNT/CONTAINER",
		Short: "Show a container's counters, properties and replication flag",
		Long:  "Show a container." + clientExitCodes,
		Args:  cobra.ExactArgs(1),
	}
	proxy := addProxyFlag(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		name, err := parseName(args[0], true, false)
		if err != nil {
			return err
		}
		dir, err := dirClient(*proxy)
		if err != nil {
			return err
		}
		c, err := dir.ContainerGetProperties(cmd.Context(), name.Account, name.Container)
		if err != nil {
			return err
		}
		acct, err := dir.AccountContainerShow(cmd.Context(), name.Account, name.Container)
		if err != nil {
			return err
		}
		replication := acct.ReplicationEnabled()
		if asJSON {
			return printJSON(cmd.OutOrStdout(), map[string]any{"account": c.Account, "name": c.Name,
				"id": c.ID, "objects": c.Objects, "bytes": c.Bytes, "properties": c.Properties,
				"system": c.System, "replication_enabled": replication})
		}
		w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintf(w, "account\t%s\nname\t%s\nid\t%s\nobjects\t%d\nbytes\t%d\nreplication\t%v\n",
			c.Account, c.Name, c.ID, c.Objects, c.Bytes, replication)
		for _, k := range sortedKeys(c.System) {
			fmt.Fprintf(w, "%s\t%s\n", k, c.System[k])
		}
		for _, k := range sortedKeys(c.Properties) {
			fmt.Fprintf(w, "property %s\t%s\n", k, c.Properties[k])
		}
		return w.Flush()
	}
	return cmd
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printHelp writes the help of cmd, or of s3map when cmd is nil.
func (a *app) printHelp(w io.Writer, cmd *command) {
	fs := newFlagSet("help")
	var scratch app
	scratch.globalFlags(fs)
	if cmd == nil {
		fmt.Fprint(w, `s3map: an S3 bucket prefix as a map, from the command line.

Usage: s3map [global flags] COMMAND [flags] [arguments]

Commands:
`)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range visibleCommands() {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
		}
		tw.Flush()
		fmt.Fprint(w, "\nGlobal flags (before or after the command):\n")
		printFlags(w, fs.specs)
		fmt.Fprint(w, `
Keys are named relative to --prefix in the default bucket (--bucket, or the
config's default_bucket); "s3://bucket/key" names any object.

Configuration: the s3.yaml file named by --config or $S3MAP_CONFIG, else
./s3.yaml, else s3map/s3.yaml in the user config directory; without keys in
it, credentials and region come from the AWS chain (AWS_ACCESS_KEY_ID,
AWS_PROFILE, ~/.aws/config, ...).

Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found (object or bucket),
130 interrupted.

Run 's3map COMMAND --help' for a command's flags and examples.
`)
		return
	}
	usage := "s3map " + cmd.name + " [flags]"
	if cmd.args != "" {
		usage += " " + cmd.args
	}
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s\n\n%s\n", cmd.name, cmd.short, usage, cmd.long)
	cfs := newFlagSet(cmd.name)
	cmd.setup(cfs)
	if len(cfs.specs) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, cfs.specs)
	}
	fmt.Fprint(w, "\nGlobal flags:\n")
	printFlags(w, fs.specs)
	if len(cmd.examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range cmd.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func printFlags(w io.Writer, specs []flagSpec) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range specs {
		names := "    --" + s.long
		if s.short != "" {
			names = "-" + s.short + ", --" + s.long
		}
		if s.arg != "" {
			names += " " + s.arg
		}
		fmt.Fprintf(tw, "  %s\t%s\n", names, strings.ReplaceAll(s.usage, "\n", " "))
	}
	tw.Flush()
}

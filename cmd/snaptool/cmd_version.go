package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

func init() {
	register(&command{name: "version", summary: "print snaptool's version, Go version and commit", run: runVersion})
	register(&command{name: "help", summary: "print the help of snaptool or of one command", run: runHelp})
}

const versionUsage = `Usage: snaptool version

Prints snaptool's version (set at build time with -ldflags
"-X main.version=…", else the module version), the Go version it was
built with, and the commit it was built from (vcs.revision, vcs.time and
whether the tree was modified, from the build info).`

const helpUsage = `Usage: snaptool help [COMMAND]

Prints the general help, or COMMAND's help (as 'snaptool COMMAND --help').`

func runVersion(ctx context.Context, args []string, e *env) error {
	fs := newFlagSet("version")
	if err := parseFlags(fs, args, e, versionUsage); err != nil {
		return err
	}
	if err := checkArgs(fs, "", 0, 0); err != nil {
		return err
	}
	_, err := fmt.Fprint(e.stdout, versionText())
	return err
}

// versionText is version's output for this binary.
func versionText() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return formatVersion(version, commit, info)
}

// formatVersion is version's output: "snaptool VERSION", then "go: …" and
// "commit: …" lines. The commit comes from the build info (vcs.revision,
// vcs.time, vcs.modified, stamped by go build in a git checkout), else
// from -ldflags "-X main.commit=…" (make build sets it: go build does not
// stamp a git worktree).
func formatVersion(v, ldCommit string, info *debug.BuildInfo) string {
	if v == "dev" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	var b strings.Builder
	fmt.Fprintf(&b, "snaptool %s\n", v)
	goVersion := runtime.Version()
	if info != nil && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(&b, "go: %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	settings := map[string]string{}
	if info != nil {
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	c := settings["vcs.revision"]
	switch {
	case c != "":
		if t := settings["vcs.time"]; t != "" {
			c += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			c += ", modified"
		}
	case ldCommit != "":
		c = ldCommit
	default:
		c = "unknown (built without version control information)"
	}
	fmt.Fprintf(&b, "commit: %s\n", c)
	return b.String()
}

func runHelp(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 {
		printGlobalHelp(e.stdout)
		return errHelp
	}
	if len(args) > 1 {
		return usagef("snaptool help [COMMAND]", "help needs at most 1 argument (COMMAND), got %d", len(args))
	}
	switch args[0] {
	case "-h", "--help", "-help":
		fmt.Fprintf(e.stdout, "%s\n\n%s", helpUsage, exitCodesHelp)
		return errHelp
	}
	c, ok := commands[args[0]]
	if !ok {
		return usagef("snaptool help (lists the commands)", "unknown command %q", args[0])
	}
	if err := c.run(ctx, []string{"--help"}, e); err != nil && err != errHelp {
		return err
	}
	return errHelp
}

// runc-wrapper is dockerd's default runtime on hosts whose capability bounding set lacks
// CAP_SYS_RESOURCE: a privileged container asks for every capability, and runc fails with
// "unable to apply caps: operation not permitted" for one the host cannot grant. The wrapper
// removes that capability from the bundle's config.json (create, run) or from the --process
// file (exec), then executes the real runc with the same arguments.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const dropped = "CAP_SYS_RESOURCE"

// realRunc may be overridden at build time: -ldflags "-X main.realRunc=/path/to/runc".
var realRunc = "/usr/sbin/runc"

func main() {
	if err := rewrite(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "firedrill runc-wrapper: %v\n", err)
		os.Exit(1)
	}
	err := syscall.Exec(realRunc, append([]string{realRunc}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "firedrill runc-wrapper: exec %s: %v\n", realRunc, err)
	os.Exit(1)
}

// rewrite finds the JSON file that carries the process's capabilities for this invocation.
func rewrite(args []string) error {
	for i, a := range args {
		switch a {
		case "create", "run":
			bundle := flagValue(args[i+1:], "bundle", "b")
			if bundle == "" {
				bundle = "."
			}
			return dropCapability(filepath.Join(bundle, "config.json"), "process", "capabilities")
		case "exec":
			if process := flagValue(args[i+1:], "process", "p"); process != "" {
				return dropCapability(process, "capabilities")
			}
			return nil
		}
	}
	return nil
}

// flagValue reads --long VALUE, --long=VALUE or -s VALUE from a subcommand's arguments.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+long+"="); ok {
			return v
		}
		if (a == "--"+long || a == "-"+short) && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// dropCapability removes the capability from every set found under path (a chain of object keys).
func dropCapability(file string, path ...string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	node := doc
	for _, key := range path {
		next, ok := node[key].(map[string]any)
		if !ok {
			return nil
		}
		node = next
	}
	changed := false
	for set, value := range node {
		caps, ok := value.([]any)
		if !ok {
			continue
		}
		kept := caps[:0]
		for _, c := range caps {
			if c != dropped {
				kept = append(kept, c)
			}
		}
		if len(kept) != len(caps) {
			node[set] = kept
			changed = true
		}
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, info.Mode().Perm())
}

// Command helmflags writes internal/helmflags/helm.txt, the table of which
// flags of `helm upgrade` and `helm install` take a value, from the --help
// output of real Helm binaries:
//
//	go run ./hack/helmflags v3=$HOME/.cache/pvc-guard/bin/helm3 v4=$HOME/.cache/pvc-guard/bin/helm4 > internal/helmflags/helm.txt
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pvc-guard/pvc-guard/internal/helmflags"
)

// Commands are the Helm commands pvc-guard runs with the user's arguments.
var Commands = []string{"upgrade", "install"}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "helmflags:", err)
		os.Exit(1)
	}
}

func run(helms []string) error {
	if len(helms) == 0 {
		return fmt.Errorf("usage: helmflags MAJOR=HELM... (e.g. v3=helm3 v4=helm4)")
	}
	var b strings.Builder
	b.WriteString(`# Which flags of "helm upgrade" and "helm install" take a value, read from the
# --help of each Helm below by hack/helmflags (do not edit; regenerate).
# Columns: Helm major, command, shorthand ("-": none), long name, arity:
#   value           takes a value: --name=v, --name v, -sv, -s=v, -s v
#   optional=DEF    a value only after "=" (--name=v); --name alone means DEF
#   none            a boolean: --name, --name=false
# Deprecated flags are hidden from --help and absent here; all of Helm's are
# booleans, which is how flags missing from the table are read.
`)
	for _, spec := range helms {
		major, bin, ok := strings.Cut(spec, "=")
		if !ok {
			return fmt.Errorf("%q is not MAJOR=HELM", spec)
		}
		version, err := exec.Command(bin, "version", "--template", "{{.Version}}").Output()
		if err != nil {
			return fmt.Errorf("%s version: %w", bin, err)
		}
		fmt.Fprintf(&b, "# %s: helm %s\n", major, strings.TrimSpace(string(version)))
		for _, command := range Commands {
			help, err := exec.Command(bin, command, "--help").Output()
			if err != nil {
				return fmt.Errorf("%s %s --help: %w", bin, command, err)
			}
			b.WriteString(helmflags.Format(major, command, helmflags.FromHelp(string(help))))
		}
	}
	_, err := os.Stdout.WriteString(b.String())
	return err
}

package cli

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/pvc-guard/pvc-guard/internal/helmflags"
)

// identityFlags are Helm's global flags that decide which cluster is read
// and as whom. pvc-guard hands the ones given to `pvc-guard upgrade|install`
// to the renderer and to every other command it runs for the release, so
// that all of them see the cluster Helm sees, as Helm.
var identityFlags = []string{
	"namespace", "kube-context", "kubeconfig", "kube-token", "kube-apiserver", "kube-as-user",
	"kube-as-group", "kube-ca-file", "kube-tls-server-name", "kube-insecure-skip-tls-verify",
}

// ownedFlag is a flag of `pvc-guard upgrade|install` that pvc-guard takes
// out of the command line and carries out itself; Helm never sees it. This
// is the one way pvc-guard adds behaviour to Helm's command line:
//   - a flag of Helm's own keeps Helm's name and meaning, and is owned only
//     where Helm cannot do it right through a post-renderer (--atomic:
//     Helm's automatic rollback is never post-rendered);
//   - every other owned flag has a name no Helm major uses for upgrade or
//     install (TestOwnedFlagNames checks helm.txt), so that Helm's flags
//     always mean what Helm's documentation says.
//
// Owned flags are long flags only, read with Helm's syntax (--x, --x=v,
// --x v for a flag with a value, anywhere before "--").
type ownedFlag struct {
	helmflags.Flag
	helms bool   // a flag of Helm's own (see above)
	usage string // one line for --help
	set   func(o *HelmRunOptions, value string) error
}

var ownedFlags = []ownedFlag{
	{Flag: helmflags.Flag{Name: "rollback-on-failure", Arity: helmflags.None}, helms: true, set: setRollbackOnFailure,
		usage: "on failure, roll back (upgrade) or uninstall (install) as Helm does, rolling back with pvc-guard rollback"},
	{Flag: helmflags.Flag{Name: "atomic", Arity: helmflags.None}, helms: true, set: setRollbackOnFailure,
		usage: "Helm 3's name for --rollback-on-failure (Helm 4 keeps it as an alias)"},
	{Flag: helmflags.Flag{Name: "expand-volumes", Arity: helmflags.None}, set: setExpandVolumes,
		usage: "grow the claims of StatefulSets whose templates ask for more storage, and re-create the sets around their pods"},
	{Flag: helmflags.Flag{Name: "expand-volumes-plan", Arity: helmflags.None}, set: setExpandVolumesPlan,
		usage: "print what --expand-volumes would grow and re-create, and change nothing"},
}

func setExpandVolumes(o *HelmRunOptions, value string) error {
	on, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("--expand-volumes: %q is not a boolean", value)
	}
	o.ExpandVolumes = on
	return nil
}

func setExpandVolumesPlan(o *HelmRunOptions, value string) error {
	on, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("--expand-volumes-plan: %q is not a boolean", value)
	}
	o.ExpandVolumesPlan = on
	return nil
}

func setRollbackOnFailure(o *HelmRunOptions, value string) error {
	on, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("--atomic/--rollback-on-failure: %q is not a boolean", value)
	}
	o.RollbackOnFailure = on
	return nil
}

// ownedFlagsHelp is the owned flags' part of the command's help.
func ownedFlagsHelp() string {
	var help string
	for _, f := range ownedFlags {
		help += fmt.Sprintf("  --%-22s %s\n", f.Name, f.usage)
	}
	return help
}

// helmArgs is a `helm upgrade|install` command line as Helm reads it.
type helmArgs struct {
	// pass is the command line without the owned flags: what Helm gets.
	pass []string
	// identity are the identity flags given, as --name=value words.
	identity []string
	// positional are the arguments that are not flags: RELEASE CHART, or
	// CHART alone with --generate-name.
	positional []string
	// last is the last occurrence of each Helm flag, which is the one that
	// counts for a single-valued flag.
	last map[string]helmflags.Arg
}

// readHelmArgs reads args with the flags of `helm verb` of a Helm major,
// applies the owned flags to o and returns the rest.
func readHelmArgs(o *HelmRunOptions, major, verb string, args []string) (*helmArgs, error) {
	flags, err := helmflags.Flags(major, verb)
	if err != nil {
		return nil, err
	}
	owned := make([]helmflags.Flag, len(ownedFlags))
	for i, f := range ownedFlags {
		owned[i] = f.Flag
	}
	h := &helmArgs{last: map[string]helmflags.Arg{}}
	drop := map[int]bool{}
	for _, arg := range helmflags.NewScanner(flags, owned).Scan(args) {
		if i := slices.IndexFunc(ownedFlags, func(f ownedFlag) bool { return f.Name == arg.Name }); i >= 0 {
			if err := ownedFlags[i].set(o, arg.Value); err != nil {
				return nil, err
			}
			for w := arg.First; w <= arg.Last; w++ {
				drop[w] = true
			}
			continue
		}
		if arg.Name == "" {
			h.positional = append(h.positional, arg.Value)
			continue
		}
		if slices.Contains(identityFlags, arg.Name) {
			h.identity = append(h.identity, "--"+arg.Name+"="+arg.Value)
		}
		h.last[arg.Name] = arg
	}
	for i, word := range args {
		if !drop[i] {
			h.pass = append(h.pass, word)
		}
	}
	return h, nil
}

// value is the value of flag as Helm reads it, and whether it was given.
func (h *helmArgs) value(flag string) (string, bool) {
	arg, ok := h.last[flag]
	return arg.Value, ok
}

// isTrue reports whether a boolean flag is set.
func (h *helmArgs) isTrue(flag string) bool {
	value, ok := h.value(flag)
	on, err := strconv.ParseBool(value)
	return ok && err == nil && on
}

package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/helmflags"
)

// TestReadHelmArgs: pvc-guard reads `helm upgrade|install` arguments as
// each Helm major reads them: the identity flags in every form pflag
// accepts, values that look like flags or charts, and the owned flags taken
// out of what Helm gets.
func TestReadHelmArgs(t *testing.T) {
	tests := []struct {
		name         string
		major, verb  string
		args         string
		wantIdentity string
		wantPass     string // "" means the arguments unchanged
		wantRelease  string
		wantRollback bool
		wantExpand   string // "plan", "expand", both or neither
	}{
		{name: "-n x", major: "v3", verb: "install", args: "dec ./chart -n target", wantIdentity: "--namespace=target", wantRelease: "dec"},
		{name: "--namespace=x", major: "v4", verb: "install", args: "--namespace=target dec ./chart", wantIdentity: "--namespace=target", wantRelease: "dec"},
		{name: "-nx", major: "v3", verb: "upgrade", args: "dec ./chart -ntarget", wantIdentity: "--namespace=target", wantRelease: "dec"},
		{name: "-n=x", major: "v4", verb: "upgrade", args: "dec ./chart -n=target", wantIdentity: "--namespace=target", wantRelease: "dec"},
		{name: "combined shorthands: -in x", major: "v3", verb: "upgrade", args: "-in target dec ./chart", wantIdentity: "--namespace=target", wantRelease: "dec"},
		{name: "the last --namespace wins, and both are passed in order", major: "v4", verb: "upgrade", args: "dec ./chart -n a -n b", wantIdentity: "--namespace=a --namespace=b", wantRelease: "dec"},
		{name: "--set and -f take values that look like flags or charts", major: "v3", verb: "upgrade", args: "--set -n -f values.yaml dec ./chart",
			wantRelease: "dec"},
		{name: "-f x before the release", major: "v4", verb: "install", args: "-f -n dec ./chart", wantRelease: "dec"},
		{name: "after -- nothing is a flag", major: "v3", verb: "install", args: "dec ./chart -- -n target --atomic", wantRelease: "dec"},
		{name: "Helm 3's --wait is a boolean: the next word is the release", major: "v3", verb: "upgrade", args: "--wait dec ./chart", wantRelease: "dec"},
		{name: "Helm 4's --wait takes no next word either", major: "v4", verb: "upgrade", args: "--wait dec ./chart", wantRelease: "dec"},
		{name: "every identity flag", major: "v4", verb: "upgrade",
			args: "dec ./chart --kube-context prod --kubeconfig /k --kube-token t --kube-apiserver https://a:6443 --kube-as-user jane " +
				"--kube-as-group g1 --kube-as-group=g2 --kube-ca-file /ca --kube-tls-server-name api --kube-insecure-skip-tls-verify --debug --qps 3",
			wantIdentity: "--kube-context=prod --kubeconfig=/k --kube-token=t --kube-apiserver=https://a:6443 --kube-as-user=jane " +
				"--kube-as-group=g1 --kube-as-group=g2 --kube-ca-file=/ca --kube-tls-server-name=api --kube-insecure-skip-tls-verify=true",
			wantRelease: "dec"},
		{name: "--atomic is pvc-guard's", major: "v3", verb: "upgrade", args: "dec --atomic ./chart --timeout 5s", wantPass: "dec ./chart --timeout 5s",
			wantRelease: "dec", wantRollback: true},
		{name: "--rollback-on-failure is pvc-guard's", major: "v4", verb: "install", args: "--rollback-on-failure dec ./chart", wantPass: "dec ./chart",
			wantRelease: "dec", wantRollback: true},
		{name: "--atomic=false", major: "v4", verb: "upgrade", args: "dec ./chart --atomic --atomic=false", wantPass: "dec ./chart", wantRelease: "dec"},
		{name: "--set --atomic is a value", major: "v3", verb: "upgrade", args: "dec ./chart --set --atomic", wantRelease: "dec"},
		{name: "--expand-volumes and its plan are pvc-guard's", major: "v3", verb: "upgrade", args: "dec ./chart --expand-volumes --expand-volumes-plan --dry-run",
			wantPass: "dec ./chart --dry-run", wantRelease: "dec", wantExpand: "expand plan"},
		{name: "--expand-volumes with --atomic", major: "v4", verb: "upgrade", args: "--atomic dec --expand-volumes ./chart", wantPass: "dec ./chart",
			wantRelease: "dec", wantRollback: true, wantExpand: "expand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &HelmRunOptions{}
			args := strings.Fields(tt.args)
			h, err := readHelmArgs(o, tt.major, tt.verb, args)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(h.identity, " "); got != tt.wantIdentity {
				t.Errorf("identity %q, want %q", got, tt.wantIdentity)
			}
			wantPass := tt.wantPass
			if wantPass == "" {
				wantPass = tt.args
			}
			if got := strings.Join(h.pass, " "); got != wantPass {
				t.Errorf("Helm gets %q, want %q", got, wantPass)
			}
			if len(h.positional) == 0 || h.positional[0] != tt.wantRelease {
				t.Errorf("positional %q, want the release %q first", h.positional, tt.wantRelease)
			}
			if o.RollbackOnFailure != tt.wantRollback {
				t.Errorf("RollbackOnFailure %v, want %v", o.RollbackOnFailure, tt.wantRollback)
			}
			if o.ExpandVolumes != strings.Contains(tt.wantExpand, "expand") || o.ExpandVolumesPlan != strings.Contains(tt.wantExpand, "plan") {
				t.Errorf("ExpandVolumes %v, ExpandVolumesPlan %v, want %q", o.ExpandVolumes, o.ExpandVolumesPlan, tt.wantExpand)
			}
		})
	}
}

// TestOwnedFlagNames holds the owned flags to their design: a flag of
// Helm's own is one some Helm major has for both commands; any other has a
// name no Helm major uses.
func TestOwnedFlagNames(t *testing.T) {
	for _, f := range ownedFlags {
		for _, verb := range []string{"upgrade", "install"} {
			var in []string
			for _, major := range []string{"v3", "v4"} {
				flags, err := helmflags.Flags(major, verb)
				if err != nil {
					t.Fatal(err)
				}
				for _, hf := range flags {
					if hf.Name == f.Name {
						in = append(in, major)
						if !reflect.DeepEqual(hf, f.Flag) {
							t.Errorf("--%s is %+v in helm %s %s, owned as %+v", f.Name, hf, major, verb, f.Flag)
						}
					}
				}
			}
			switch {
			case f.helms && len(in) == 0:
				t.Errorf("--%s is owned as Helm's, but no Helm has it for %s", f.Name, verb)
			case !f.helms && len(in) > 0:
				t.Errorf("--%s is pvc-guard's own, but Helm %v uses it for %s", f.Name, in, verb)
			}
		}
	}
}

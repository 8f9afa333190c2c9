package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// HelmRunOptions are the options of `pvc-guard upgrade|install`, which runs
// Helm's own command with pvc-guard wired in as the post-renderer.
type HelmRunOptions struct {
	Streams
	Verb string   // "upgrade" or "install"
	Args []string // everything after the verb, as the user wrote it

	// RollbackOnFailure is --rollback-on-failure or --atomic, which
	// pvc-guard carries out itself (rollbackonfailure.go).
	RollbackOnFailure bool
	// ExpandVolumes is --expand-volumes (expandvolumes.go), and
	// ExpandVolumesPlan its plan-only form.
	ExpandVolumes, ExpandVolumesPlan bool

	helmBin string
	major   string // "v3" or "v4"
	helm    *helmArgs
	// rollback runs `pvc-guard rollback` when RollbackOnFailure needs it.
	rollback *RollbackDispatchOptions
}

// NewHelmRunCommand builds `pvc-guard upgrade` or `pvc-guard install`.
// Flags are not parsed by cobra: every argument goes to Helm as the user
// wrote it, except the few pvc-guard owns (helmargs.go).
func NewHelmRunCommand(streams Streams, verb string) *cobra.Command {
	o := &HelmRunOptions{Streams: streams, Verb: verb}
	return &cobra.Command{
		Use:   verb + " RELEASE CHART [helm " + verb + " flags]",
		Short: "Run helm " + verb + " with pvc-guard as its post-renderer",
		Long: `Run "helm ` + verb + `" with the same arguments, with pvc-guard wired in as the
post-renderer the way the running Helm needs it: the pvc-guard binary for
Helm 3, the pvc-guard-render plugin for Helm 4. Because Helm hides a
post-renderer's messages, what pvc-guard preserved (or why it refused) is
printed after Helm finishes.

The renderer reads the cluster Helm reads, as Helm: it gets the namespace
and identity flags given to Helm (-n, --kube-context, --kubeconfig,
--kube-token, --kube-apiserver, --kube-as-user, --kube-as-group,
--kube-ca-file, --kube-tls-server-name, --kube-insecure-skip-tls-verify),
read as Helm reads its command line, and Helm's environment.

Every argument goes to Helm unchanged except the flags pvc-guard owns,
which it takes out and carries out itself. A flag of Helm's own keeps its
name and meaning and is owned only where Helm cannot do it right with a
post-renderer; pvc-guard's other flags have names no Helm uses.

` + ownedFlagsHelp() + `
Helm's automatic rollback is never post-rendered, so Helm's own --atomic
would replay the old manifest and be refused ("spec is immutable"). Here
Helm runs without it, waiting as --atomic implies (Helm 3: --wait; Helm 4:
the watcher unless --wait names another strategy); when the run recorded a
failed revision, pvc-guard rolls back with "pvc-guard rollback" to the
revision Helm would pick (the newest deployed or superseded), waiting as
Helm's rollback does, or uninstalls a failed install, as Helm does.
--cleanup-on-fail goes to Helm, which cleans up before the rollback.

--expand-volumes grows a StatefulSet's volumes, which its immutable
volumeClaimTemplates forbid in place. A server-side dry run of the same
command through the renderer finds the sets whose templates ask for more
storage. Each must have every claim bound, an expandable StorageClass and a
retention policy that keeps claims on deletion; any other conflict stops
it, before any change. Then it saves the live set to a file in the
current directory, grows each claim (never shrinks), deletes the set with
--cascade=orphan (the pods keep running), runs Helm, which creates the set
again, and waits until the new set owns the same pods. When Helm failed
before creating the set, the saved set is created again. With --atomic the
set comes back first, then the release is rolled back; grown claims stay
grown. --expand-volumes-plan prints the plan and changes nothing.

Helm is $HELM_BIN (set when run as "helm pvc-guard"), else "helm" on PATH.`,
		Example: `  helm pvc-guard ` + verb + ` grafana grafana/grafana -n monitoring --set persistence.size=20Gi
  pvc-guard ` + verb + ` grafana grafana/grafana -n monitoring --kube-context prod --atomic --timeout 10m
  pvc-guard ` + verb + ` db ./charts/db -n prod --set persistence.size=20Gi --expand-volumes-plan
  pvc-guard ` + verb + ` db ./charts/db -n prod --set persistence.size=20Gi --expand-volumes --atomic`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				return cmd.Help()
			}
			o.Args = args
			if err := o.Complete(cmd.Context()); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
}

// Complete finds Helm and its major version, and reads the arguments as
// that Helm reads them.
func (o *HelmRunOptions) Complete(ctx context.Context) error {
	o.helmBin = os.Getenv("HELM_BIN")
	if o.helmBin == "" {
		o.helmBin = "helm"
	}
	major, err := o.helmMajorVersion(ctx)
	if err != nil {
		return err
	}
	o.major = major
	if o.helm, err = readHelmArgs(o, major, o.Verb, o.Args); err != nil {
		return err
	}
	if o.RollbackOnFailure {
		o.rollback = &RollbackDispatchOptions{Streams: o.Streams}
		return o.rollback.Complete()
	}
	return nil
}

// Validate refuses a second post-renderer (Helm takes only one) and what
// --rollback-on-failure cannot work with.
func (o *HelmRunOptions) Validate() error {
	if _, ok := o.helm.value("post-renderer"); ok {
		return fmt.Errorf("pvc-guard %s sets --post-renderer itself; run helm %s directly to use another one", o.Verb, o.Verb)
	}
	if o.RollbackOnFailure && o.helm.isTrue("generate-name") {
		return fmt.Errorf("pvc-guard %s --atomic needs the release name to undo a failure: give it instead of --generate-name", o.Verb)
	}
	if o.RollbackOnFailure && len(o.helm.positional) == 0 {
		return fmt.Errorf("pvc-guard %s --atomic: no release name in the arguments", o.Verb)
	}
	if _, ok := o.helm.value("dry-run"); ok && o.ExpandVolumes {
		return fmt.Errorf("pvc-guard %s --expand-volumes changes the cluster before Helm runs, which --dry-run cannot undo: use --expand-volumes-plan to see the plan", o.Verb)
	}
	return nil
}

// Run runs Helm, reports what pvc-guard did, and undoes a failed run when
// asked to.
func (o *HelmRunOptions) Run(ctx context.Context) error {
	reportDir, err := os.MkdirTemp("", "pvc-guard-report")
	if err != nil {
		return fmt.Errorf("creating a report directory: %w", err)
	}
	defer os.RemoveAll(reportDir)
	reportFile := filepath.Join(reportDir, "report.json")

	postRenderer, err := o.postRendererFlags(ctx, reportFile)
	if err != nil {
		return err
	}
	var grow *expansion
	if o.ExpandVolumes || o.ExpandVolumesPlan {
		if grow, err = o.planExpansion(ctx); err != nil || o.ExpandVolumesPlan {
			return err
		}
	}
	var undo *failureUndo
	if o.RollbackOnFailure {
		if undo, err = o.prepareUndo(ctx); err != nil {
			return err
		}
	}
	if grow != nil {
		if err := grow.prepare(ctx); err != nil {
			return err
		}
		o.expandProgress("4/5 helm %s creates the sets again with the new templates", o.Verb)
	}
	args := append(append([]string{o.Verb}, o.helm.pass...), postRenderer...)
	if undo != nil {
		args = append(args, undo.impliedWait...)
	}
	helmErr := o.helmCommand(ctx, args...).Run()
	o.printReport(reportFile)
	// The sets come back before anything else, --atomic's rollback too.
	recoverErr := grow.finish(ctx, helmErr)
	if helmErr == nil {
		return recoverErr
	}
	helmErr = fmt.Errorf("helm %s: %w", o.Verb, helmErr)
	if recoverErr != nil {
		helmErr = fmt.Errorf("%w; %w", helmErr, recoverErr)
	}
	if undo != nil {
		return undo.run(ctx, helmErr)
	}
	return helmErr
}

// helmCommand runs Helm with the standard streams.
func (o *HelmRunOptions) helmCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, o.helmBin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	return cmd
}

// helmMajorVersion asks Helm which major version it is.
func (o *HelmRunOptions) helmMajorVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, o.helmBin, "version", "--template", "{{.Version}}").Output()
	if err != nil {
		return "", fmt.Errorf("running %s version (set HELM_BIN to your helm): %w", o.helmBin, err)
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(version, ".")
	switch major {
	case "v3", "v4":
		return major, nil
	}
	return "", fmt.Errorf("%s reports version %q; pvc-guard supports Helm 3 and Helm 4", o.helmBin, version)
}

// postRendererFlags wires pvc-guard in: Helm 3 runs an executable, Helm 4
// only a postrenderer/v1 plugin. The renderer inherits Helm's environment
// (HELM_NAMESPACE, KUBECONFIG, ...) and gets the identity flags given.
func (o *HelmRunOptions) postRendererFlags(ctx context.Context, reportFile string) ([]string, error) {
	rendererArgs := append([]string{"--report=" + reportFile}, o.helm.identity...)
	var flags []string
	switch o.major {
	case "v3":
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("locating the pvc-guard binary: %w", err)
		}
		flags = []string{"--post-renderer", self, "--post-renderer-args=render"}
	case "v4":
		if err := o.requireRenderPlugin(ctx); err != nil {
			return nil, err
		}
		flags = []string{"--post-renderer", renderPluginName}
	}
	for _, arg := range rendererArgs {
		flags = append(flags, "--post-renderer-args="+arg)
	}
	return flags, nil
}

// renderPluginName is the Helm 4 postrenderer/v1 plugin in plugins/.
const renderPluginName = "pvc-guard-render"

func (o *HelmRunOptions) requireRenderPlugin(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, o.helmBin, "plugin", "list").Output()
	if err != nil {
		return fmt.Errorf("listing Helm plugins: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == renderPluginName {
			return nil
		}
	}
	return fmt.Errorf("Helm 4 runs post-renderers only as plugins, and %s is not installed: "+
		"helm plugin install <pvc-guard checkout>/plugins/%s (or the %s release tarball)", renderPluginName, renderPluginName, renderPluginName)
}

// printReport tells the user what the post-renderer did; Helm shows none of
// its messages on success (and Helm 4 none at all).
func (o *HelmRunOptions) printReport(path string) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return // Helm failed before rendering, and said why
	}
	var report renderer.Report
	if err == nil {
		err = json.Unmarshal(data, &report)
	}
	if err != nil {
		fmt.Fprintf(o.ErrOut, "pvc-guard: reading the renderer's report: %v\n", err)
		return
	}
	if len(report.Conflicts) > 0 {
		fmt.Fprintln(o.ErrOut, (&renderer.ConflictError{Conflicts: report.Conflicts}).Error())
	}
	fmt.Fprintln(o.ErrOut, report.Summary())
}

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
	Args []string // everything after the verb, passed to Helm untouched

	helmBin     string
	namespace   string
	kubeContext string
}

// NewHelmRunCommand builds `pvc-guard upgrade` or `pvc-guard install`.
// Flags are not parsed: every argument goes to Helm as the user wrote it.
// As a Helm plugin (`helm pvc-guard upgrade ...`), Helm has already taken
// its global flags (-n, --kube-context, --kubeconfig) and passes them in
// HELM_NAMESPACE, HELM_KUBECONTEXT and KUBECONFIG, which the renderer
// inherits.
func NewHelmRunCommand(streams Streams, verb string) *cobra.Command {
	o := &HelmRunOptions{Streams: streams, Verb: verb}
	return &cobra.Command{
		Use:   verb + " RELEASE CHART [helm " + verb + " flags]",
		Short: "Run helm " + verb + " with pvc-guard as its post-renderer",
		Long: `Run "helm ` + verb + `" with the same arguments, with pvc-guard wired in as the
post-renderer the way the running Helm needs it: the pvc-guard binary for
Helm 3, the pvc-guard-render plugin for Helm 4. The namespace and
kube-context given to Helm reach pvc-guard too. Because Helm hides a
post-renderer's messages, what pvc-guard preserved (or why it refused) is
printed after Helm finishes.

Helm is $HELM_BIN (set when run as "helm pvc-guard"), else "helm" on PATH.`,
		Example:            `  helm pvc-guard ` + verb + ` grafana grafana/grafana -n monitoring --set persistence.size=20Gi`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				return cmd.Help()
			}
			o.Args = args
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
}

// Complete reads Helm's plugin environment.
func (o *HelmRunOptions) Complete() error {
	o.helmBin = os.Getenv("HELM_BIN")
	if o.helmBin == "" {
		o.helmBin = "helm"
	}
	o.namespace = os.Getenv("HELM_NAMESPACE")
	o.kubeContext = os.Getenv("HELM_KUBECONTEXT")
	return nil
}

// Validate refuses a second post-renderer: Helm takes only one.
func (o *HelmRunOptions) Validate() error {
	for _, arg := range o.Args {
		if arg == "--post-renderer" || strings.HasPrefix(arg, "--post-renderer=") {
			return fmt.Errorf("helm pvc-guard %s sets --post-renderer itself; run helm %s directly to use another one", o.Verb, o.Verb)
		}
	}
	return nil
}

// Run runs Helm, then reports what pvc-guard did.
func (o *HelmRunOptions) Run(ctx context.Context) error {
	major, err := o.helmMajorVersion(ctx)
	if err != nil {
		return err
	}
	reportDir, err := os.MkdirTemp("", "pvc-guard-report")
	if err != nil {
		return fmt.Errorf("creating a report directory: %w", err)
	}
	defer os.RemoveAll(reportDir)
	reportFile := filepath.Join(reportDir, "report.json")

	postRenderer, err := o.postRendererFlags(ctx, major, reportFile)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, o.helmBin, append(append([]string{o.Verb}, o.Args...), postRenderer...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	helmErr := cmd.Run()
	o.printReport(reportFile)
	if helmErr != nil {
		return fmt.Errorf("helm %s: %w", o.Verb, helmErr)
	}
	return nil
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
// only a postrenderer/v1 plugin.
func (o *HelmRunOptions) postRendererFlags(ctx context.Context, major, reportFile string) ([]string, error) {
	rendererArgs := []string{"--report=" + reportFile}
	if o.namespace != "" {
		rendererArgs = append(rendererArgs, "--namespace="+o.namespace)
	}
	if o.kubeContext != "" {
		rendererArgs = append(rendererArgs, "--kube-context="+o.kubeContext)
	}
	var flags []string
	switch major {
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

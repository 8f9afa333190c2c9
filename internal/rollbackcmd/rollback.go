// Package rollbackcmd is `pvc-guard rollback`, built as its own binary,
// pvc-guard-rollback, which `pvc-guard rollback` runs git-style: it needs
// Helm's SDK, and pvc-guard, Helm's post-renderer, starts three times faster
// without it.
package rollbackcmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"helm.sh/helm/v4/pkg/action"
	helmcli "helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"

	"github.com/pvc-guard/pvc-guard/internal/cli"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/rollback"
)

const rollbackExamples = `  # Roll back to the previous revision, keeping every claim's immutable fields
  pvc-guard rollback grafana -n monitoring

  # Roll back to revision 1 and wait for the workloads to be ready
  pvc-guard rollback grafana 1 -n monitoring --wait --timeout 10m

  # See what revision 1 would apply, and what pvc-guard preserves, changing nothing
  pvc-guard rollback grafana 1 -n monitoring --dry-run`

// Execute runs `pvc-guard rollback` with args and returns the process exit
// code; args starting with cli.AuditArg run `pvc-guard audit` instead.
func Execute(args []string, streams cli.Streams) int {
	command := "rollback"
	if len(args) > 0 && args[0] == cli.AuditArg {
		command, args = "audit", args[1:]
	}
	return cli.ExecuteCommand(NewRootCommand(streams), append([]string{command}, args...), streams)
}

// NewRootCommand is `pvc-guard` with the commands that need Helm's SDK, so
// that help and errors name them as users type them: `pvc-guard rollback`.
func NewRootCommand(streams cli.Streams) *cobra.Command {
	root := &cobra.Command{Use: "pvc-guard", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.AddCommand(NewRollbackCommand(streams), NewAuditCommand(streams))
	return root
}

// RollbackOptions are the options of `pvc-guard rollback`.
type RollbackOptions struct {
	cli.Streams
	// settings are Helm's global flags and environment, bound as the Helm
	// CLI binds them, so every global flag of "helm rollback" means here
	// what it means there.
	settings *helmcli.EnvSettings

	Release    string
	OnConflict string
	RuleFiles  []string
	Wait       waitFlag
	rollback.Options
}

// NewRollbackOptions returns the defaults, with Helm's environment read.
func NewRollbackOptions(streams cli.Streams) *RollbackOptions {
	return &RollbackOptions{
		Streams:    streams,
		settings:   helmcli.New(),
		OnConflict: string(renderer.Fail),
		Wait:       waitFlag(kube.HookOnlyStrategy),
		Options:    rollback.DefaultOptions(),
	}
}

// NewRollbackCommand builds `pvc-guard rollback`.
func NewRollbackCommand(streams cli.Streams) *cobra.Command {
	o := NewRollbackOptions(streams)
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [REVISION]",
		Short: "Roll a Helm release back without changing immutable claim fields",
		Long: `Roll a release back to a previous revision (default: the one before the
latest), as "helm rollback" does, but with the target revision's manifest first
rewritten against the live cluster, so that claims keep their volumeName,
storage class, size and other immutable fields.

It is Helm's own rollback (Helm 4's SDK): hooks run, the new revision is
recorded as "Rollback to N", older revisions are superseded, --history-max
applies, and a Helm 4 release keeps its apply method. It works on releases
made by Helm 3 and by Helm 4.`,
		Example: rollbackExamples,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.AddFlags(cmd)
	// `pvc-guard rollback --version` says which pvc-guard-rollback ran;
	// hidden, since it is no rollback flag.
	cmd.Version = cli.GetBuildInfo().Version
	cmd.SetVersionTemplate("pvc-guard-rollback {{.Version}}\n")
	cmd.Flags().Bool("version", false, "print the version of pvc-guard-rollback")
	cmd.Flags().Lookup("version").Hidden = true
	return cmd
}

// AddFlags binds the options to flags named as `helm rollback` names them:
// Helm 4's global flags (a superset of Helm 3's), then rollback's own.
// Binding --kubeconfig also clears the single path cli.New copied from
// $KUBECONFIG, as in Helm's CLI, so that client-go reads $KUBECONFIG as
// its list of files.
func (o *RollbackOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	o.settings.AddFlags(fs)
	c := &o.Options
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "time to wait for any individual Kubernetes operation (like Jobs for hooks)")
	fs.Var(&o.Wait, "wait", `wait until resources are ready (up to --timeout); "--wait" alone means "watcher", or name one of "watcher", "hookOnly", "legacy"`)
	fs.Lookup("wait").NoOptDefVal = string(kube.StatusWatcherStrategy)
	fs.BoolVar(&c.WaitForJobs, "wait-for-jobs", false, "with --wait, also wait until all Jobs have completed")
	fs.BoolVar(&c.DisableHooks, "no-hooks", false, "prevent hooks from running during rollback")
	fs.BoolVar(&c.CleanupOnFail, "cleanup-on-fail", false, "delete new resources created in this rollback when it fails")
	fs.IntVar(&c.MaxHistory, "history-max", o.settings.MaxHistory, "limit the number of revisions saved per release; 0 for no limit")
	fs.BoolVar(&c.ForceReplace, "force-replace", false, "force resource updates by replacement")
	fs.BoolVar(&c.ForceReplace, "force", false, "force resource updates by replacement (Helm 3's name for --force-replace)")
	fs.StringVar(&c.ServerSideApply, "server-side", c.ServerSideApply, `"true", "false" or "auto" (follow the target revision's apply method)`)
	fs.BoolVar(&c.ForceConflicts, "force-conflicts", false, "with server-side apply, force changes against conflicts")
	fs.BoolVar(&c.DryRun, "dry-run", false, "print the rewritten manifest and what pvc-guard preserved; change nothing")
	cli.AddOnConflictFlag(fs, &o.OnConflict)
	cli.AddRulesFlag(fs, &o.RuleFiles)
	cmd.MarkFlagsMutuallyExclusive("force-replace", "force-conflicts")
	cmd.MarkFlagsMutuallyExclusive("force", "force-conflicts")
}

// Complete reads the arguments.
func (o *RollbackOptions) Complete(args []string) error {
	o.Release = args[0]
	if len(args) > 1 {
		version, err := strconv.Atoi(args[1])
		if err != nil {
			return fmt.Errorf("revision must be a number, not %q", args[1])
		}
		o.Version = version
	}
	return nil
}

// Validate rejects option values that cannot work.
func (o *RollbackOptions) Validate() error {
	if err := cli.ValidateOnConflict(o.OnConflict); err != nil {
		return err
	}
	switch o.ServerSideApply {
	case "true", "false", "auto":
	default:
		return fmt.Errorf(`--server-side must be "true", "false" or "auto", not %q`, o.ServerSideApply)
	}
	if o.Version < 0 {
		return fmt.Errorf("revision must be positive, not %d", o.Version)
	}
	return nil
}

// Run performs the rollback and reports what was preserved.
func (o *RollbackOptions) Run(ctx context.Context) error {
	rules, err := renderer.LoadRuleSets(o.RuleFiles)
	if err != nil {
		return err
	}
	namespace := o.settings.Namespace()
	cfg, err := o.helmConfiguration(namespace)
	if err != nil {
		return err
	}
	state, err := o.liveCluster(30 * time.Second)
	if err != nil {
		return err
	}
	o.WaitStrategy = kube.WaitStrategy(o.Wait)
	r := &renderer.Renderer{Live: state, OnConflict: renderer.ConflictPolicy(o.OnConflict), Rules: rules}
	result, err := rollback.NewRollback(cfg, r, o.Options).Run(ctx, o.Release)
	if err != nil {
		return err
	}
	if o.DryRun {
		return o.printDryRun(result)
	}
	printPreserved(o.ErrOut, result.Report)
	fmt.Fprintln(o.Out, "Rollback was a success! Happy Helming!")
	return nil
}

func (o *RollbackOptions) printDryRun(result *rollback.Result) error {
	fmt.Fprintf(o.Out, "# Dry run: rolling %s back to revision %d would apply this manifest. Nothing was changed.\n", result.Release, result.Revision)
	if len(result.Report.Rewrites) == 0 {
		fmt.Fprintln(o.Out, "# pvc-guard changed nothing versus the stored revision.")
	}
	for _, f := range result.Report.Rewrites {
		fmt.Fprintf(o.Out, "# changed: %s %s %s: stored %s, applied %s (%s)\n", f.Kind, f.ObjectName(), f.Field, renderer.FormatValue(f.Chart), renderer.FormatValue(f.Live), f.Reason)
	}
	_, err := fmt.Fprint(o.Out, result.Manifest)
	return err
}

func printPreserved(w io.Writer, report *renderer.Report) {
	for _, f := range report.Rewrites {
		fmt.Fprintf(w, "pvc-guard: %s %s %s kept at %s (%s)\n", f.Kind, f.ObjectName(), f.Field, renderer.FormatValue(f.Live), f.Reason)
	}
}

// waitFlag is --wait: a Helm 4 wait strategy, with "--wait" alone meaning
// "watcher" as in Helm.
type waitFlag kube.WaitStrategy

func (w *waitFlag) String() string { return string(*w) }
func (w *waitFlag) Type() string   { return "strategy" }
func (w *waitFlag) Set(value string) error {
	switch kube.WaitStrategy(value) {
	case kube.StatusWatcherStrategy, kube.HookOnlyStrategy, kube.LegacyStrategy:
		*w = waitFlag(value)
		return nil
	case "true":
		*w = waitFlag(kube.StatusWatcherStrategy)
		return nil
	case "false":
		*w = waitFlag(kube.HookOnlyStrategy)
		return nil
	}
	return fmt.Errorf(`must be "watcher", "hookOnly" or "legacy", not %q`, value)
}

// helmConfiguration sets up Helm's SDK as the Helm CLI does: the release
// storage named by $HELM_DRIVER in the release's namespace, and "helm" as
// the field manager, so later helm commands see their own fields.
func (o *RollbackOptions) helmConfiguration(namespace string) (*action.Configuration, error) {
	kube.ManagedFieldsManager = "helm"
	level := slog.LevelWarn
	if o.settings.Debug {
		level = slog.LevelDebug
	}
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.NewTextHandler(o.ErrOut, &slog.HandlerOptions{Level: level}))
	if err := cfg.Init(o.settings.RESTClientGetter(), namespace, os.Getenv("HELM_DRIVER")); err != nil {
		return nil, fmt.Errorf("initialising Helm: %w", err)
	}
	return cfg, nil
}

// liveCluster is read-only access to the cluster for the renderer, through
// Helm's client configuration.
func (o *RollbackOptions) liveCluster(timeout time.Duration) (*live.Cluster, error) {
	config, err := o.settings.RESTClientGetter().ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig (set --kubeconfig/--kube-context): %w", err)
	}
	config.Timeout = timeout
	return live.NewCluster(config)
}

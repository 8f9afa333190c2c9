package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pvc-guard/pvc-guard/internal/input"
	"github.com/pvc-guard/pvc-guard/internal/pipes"
	"github.com/pvc-guard/pvc-guard/internal/prefault"
	"github.com/pvc-guard/pvc-guard/krm"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

const renderExamples = `  # Helm 3: upgrade through pvc-guard (Helm passes no namespace to a post-renderer)
  helm upgrade grafana grafana/grafana -n monitoring \
    --post-renderer ./bin/pvc-guard --post-renderer-args=--namespace=monitoring

  # Preview what would be preserved, without a cluster
  kubectl get pvc,sts,pv,storageclass -A -o yaml > live.yaml
  helm template grafana grafana/grafana -n monitoring | pvc-guard -n monitoring --live-state live.yaml

  # Keep live values instead of failing on conflicts, and keep a JSON report
  helm template ... | pvc-guard render -n monitoring --on-conflict=keep-live --report report.json`

// RenderOptions are the options of `pvc-guard render`.
type RenderOptions struct {
	Streams
	*ClusterFlags

	LiveStateFiles []string
	ReportFile     string
	OnConflict     string
	RequestTimeout time.Duration
	// RuleFiles are the --rules files (or builtin:NAME sets) added to the
	// default rules.
	RuleFiles []string
	// KubeVersion stands for the API server's version with --live-state.
	KubeVersion string
}

// NewRenderOptions returns the defaults, with Helm's environment read.
func NewRenderOptions(streams Streams) *RenderOptions {
	return &RenderOptions{
		Streams:        streams,
		ClusterFlags:   NewClusterFlags(),
		OnConflict:     string(renderer.Fail),
		RequestTimeout: 30 * time.Second,
	}
}

// NewRenderCommand builds `pvc-guard render`.
func NewRenderCommand(streams Streams) *cobra.Command {
	o := NewRenderOptions(streams)
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Rewrite rendered manifests from stdin so claims keep their immutable fields",
		Long: `Read a rendered manifest stream on stdin and write it to stdout with each
PersistentVolumeClaim's immutable fields taken from the live claim.

Documents that need no change pass through byte for byte. A rewritten claim
carries one "# pvc-guard:" comment line per preserved field. Nothing is
written to stdout unless the whole stream succeeded; the cluster is only read.

The namespace of a document without metadata.namespace is --namespace, else
$HELM_NAMESPACE, else the kubeconfig context's namespace, else "default".`,
		Example: renderExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.Execute(cmd.Context())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// AddFlags binds the options to flags named as Helm and kubectl name them.
func (o *RenderOptions) AddFlags(fs *pflag.FlagSet) {
	o.ClusterFlags.AddFlags(fs)
	fs.DurationVar(&o.RequestTimeout, "request-timeout", o.RequestTimeout, "time limit for reading live state from the API server")
	fs.StringArrayVar(&o.LiveStateFiles, "live-state", nil, "read live objects (claims, StatefulSets, volumes, storage classes, any ruled kind) from this file instead of the cluster (repeatable; a v1 List or a YAML stream)")
	fs.StringVar(&o.ReportFile, "report", "", "write a JSON report of every rewrite and conflict to this file")
	fs.StringVar(&o.KubeVersion, "kube-version", "", "the API server version the rules assume with --live-state (default: the newest they know)")
	AddOnConflictFlag(fs, &o.OnConflict)
	AddRulesFlag(fs, &o.RuleFiles)
}

// AddRulesFlag adds --rules, which every command that renders shares.
func AddRulesFlag(fs *pflag.FlagSet, files *[]string) {
	fs.StringArrayVar(files, "rules", nil, "add the rules of this rule set file, or of builtin:NAME (repeatable; see pvc-guard rules)")
}

// AddOnConflictFlag adds --on-conflict, which render, flux-patches and
// pvc-guard-rollback share.
func AddOnConflictFlag(fs *pflag.FlagSet, value *string) {
	fs.StringVar(value, "on-conflict", *value, `what to do when the chart changes an immutable field: "fail" or "keep-live"`)
}

// ValidateOnConflict rejects an --on-conflict the renderer does not know.
func ValidateOnConflict(value string) error {
	switch renderer.ConflictPolicy(value) {
	case renderer.Fail, renderer.KeepLive:
		return nil
	}
	return fmt.Errorf(`--on-conflict must be "fail" or "keep-live", not %q`, value)
}

// Execute completes, validates and runs the options.
func (o *RenderOptions) Execute(ctx context.Context) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return o.Run(ctx)
}

// Validate rejects option values that cannot work.
func (o *RenderOptions) Validate() error {
	if err := ValidateOnConflict(o.OnConflict); err != nil {
		return err
	}
	if o.RequestTimeout <= 0 {
		return fmt.Errorf("--request-timeout must be positive, not %s", o.RequestTimeout)
	}
	if o.KubeVersion != "" && len(o.LiveStateFiles) == 0 {
		return fmt.Errorf("--kube-version is for --live-state; with a cluster the API server says its version")
	}
	return nil
}

// Run renders stdin to stdout. Output is written only after the whole
// stream succeeded; the report file is written even when conflicts stop the
// render, since that is when it is most useful.
func (o *RenderOptions) Run(ctx context.Context) error {
	// The whole stream and most of what is built from it are held until
	// the end, so a collection reclaims little: with 100,000 documents
	// (make bench) the collector took 10-15% of the wall time and kept the
	// peak RSS 15% lower. It runs only when the heap nears renderHeapLimit;
	// a user's GOGC or GOMEMLIMIT still wins.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(renderHeapLimit)
	}
	rules, err := renderer.LoadRuleSets(o.RuleFiles)
	if err != nil {
		return err
	}
	widenPipes(o.In, o.Out)
	// Live state loads while stdin streams in: both can take a while.
	state := live.LoadInBackground(o.liveState)
	in, err := input.ReadAll(o.In, &input.Watch{Size: largeStream, Large: func() { prefault.Heap(prefaultHeapSize) }})
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	if krm.IsResourceList(in) {
		return o.runFunction(ctx, in, state, rules)
	}
	ctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	r := &renderer.Renderer{Live: state, Namespace: o.Namespace(), OnConflict: renderer.ConflictPolicy(o.OnConflict),
		Rules: rules, KubeVersion: o.KubeVersion}
	result, renderErr := r.Rewrite(ctx, in)
	if err := o.writeReport(result, renderErr); err != nil {
		return err
	}
	if renderErr != nil {
		return renderErr
	}
	// A stream without claims never asked for live state; a broken
	// --live-state or kubeconfig is still an error the user should see.
	if _, err := state.Wait(ctx); err != nil {
		return err
	}
	if _, err := result.WriteTo(o.Out); err != nil {
		return fmt.Errorf("writing stdout: %w", err)
	}
	fmt.Fprintln(o.ErrOut, result.Report.Summary())
	return nil
}

// A stream of largeStream bytes or more gets prefaultHeapSize bytes of heap
// populated while it streams in: about what a 43 MB stream with 1,000
// claims touches (make bench). Smaller streams, the usual Helm release, would
// only pay for it: populating 32 MiB added 9 ms to a 20 kB render.
const (
	largeStream      = 8 << 20
	prefaultHeapSize = 32 << 20
)

// renderHeapLimit is where the collector starts: rendering 100,000
// documents peaks at about 140 MB, 600 MB with builtin:workloads.
const renderHeapLimit = 1 << 30

// widenPipes gives the pipes Helm connects larger kernel buffers: the
// stream is read whole and then written whole.
func widenPipes(streams ...any) {
	for _, s := range streams {
		if f, ok := s.(*os.File); ok {
			pipes.Widen(f)
		}
	}
}

// writeReport writes the JSON report when asked for, also when conflicts
// stopped the render: that is when it is most useful.
func (o *RenderOptions) writeReport(result *renderer.Result, renderErr error) error {
	if o.ReportFile == "" {
		return nil
	}
	var conflicts *renderer.ConflictError
	switch {
	case result != nil:
		return writeJSON(o.ReportFile, result.Report)
	case errors.As(renderErr, &conflicts):
		return writeJSON(o.ReportFile, conflicts.Report)
	}
	return nil
}

// liveState is the snapshot files when given, else the cluster.
func (o *RenderOptions) liveState() (renderer.LiveState, error) {
	if len(o.LiveStateFiles) > 0 {
		return live.ReadSnapshotFiles(o.LiveStateFiles)
	}
	return o.liveCluster(o.RequestTimeout)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

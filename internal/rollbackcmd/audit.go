package rollbackcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"helm.sh/helm/v4/pkg/action"
	helmcli "helm.sh/helm/v4/pkg/cli"
	helmrelease "helm.sh/helm/v4/pkg/release"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/audit"
	"github.com/pvc-guard/pvc-guard/internal/cli"
	"github.com/pvc-guard/pvc-guard/renderer"
	"github.com/pvc-guard/pvc-guard/rollback"
)

const auditExamples = `  # Every release of the namespace: which rollbacks would fail, and which pvc-guard fixes
  pvc-guard audit -n monitoring

  # One release, as JSON for a CI gate (exit 2: stock fails but pvc-guard covers; 3: it does not)
  pvc-guard audit grafana -n monitoring -o json

  # Every namespace, the last 3 revisions of each release
  pvc-guard audit -A --max-revisions 3`

// AuditOptions are the options of `pvc-guard audit`.
type AuditOptions struct {
	cli.Streams
	settings *helmcli.EnvSettings

	Release       string
	AllNamespaces bool
	Output        string
	RuleFiles     []string
	audit.Options
}

// NewAuditCommand builds `pvc-guard audit`.
func NewAuditCommand(streams cli.Streams) *cobra.Command {
	o := &AuditOptions{Streams: streams, settings: helmcli.New(), Output: "table", Options: audit.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "audit [RELEASE]",
		Short: "Tell which rollbacks and upgrades the API server would refuse, with and without pvc-guard",
		Long: `For each release (one, those of --namespace, or with -A all) and each stored
revision before the current one, tell whether stock "helm rollback RELEASE N"
would be refused, on which fields and why, and whether "pvc-guard rollback
RELEASE N" would succeed. For the current revision, tell whether the next plain
upgrade would trip on immutable fields that drifted in the live objects
(client-side and server-side apply), and which fields the stored manifest
carries only because pvc-guard preserved them.

The API server decides: the audit builds the request stock Helm would send
(client-side apply's three-way merge patch, Helm 4's server-side apply, or the
PUT of --force) and sends it with dryRun=All, one request per object that
differs, and the same for pvc-guard's rewritten manifest. Dry runs need the
write verbs; without them pvc-guard's rules judge, and the output says so
(basis "rules"). Nothing is ever written.

Exit codes: 0 every check passes; 2 some stock rollback or upgrade would be
refused and pvc-guard's would not; 3 something would be refused (or could not
be judged) even with pvc-guard; 1 the audit failed.`,
		Example: auditExamples,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags binds Helm's global flags, as for rollback, and audit's own.
func (o *AuditOptions) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	o.settings.AddFlags(fs)
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "audit the releases of every namespace")
	fs.StringVarP(&o.Output, "output", "o", o.Output, `output format: "table", "json" or "yaml"`)
	fs.IntVar(&o.MaxRevisions, "max-revisions", o.MaxRevisions, "check at most this many revisions before the current one, newest first; 0 for all")
	fs.StringVar(&o.ServerSide, "server-side", o.ServerSide, `predict "helm rollback --server-side": "auto" (each revision's recorded apply method), "true" or "false"`)
	fs.BoolVar(&o.ForceReplace, "force", false, `predict "helm rollback --force" (replace every object) and "helm upgrade --force"`)
	fs.BoolVar(&o.ForceReplace, "force-replace", false, "Helm 4's name for --force")
	fs.BoolVar(&o.ForceConflicts, "force-conflicts", false, `predict "helm rollback --force-conflicts" (server-side apply only)`)
	cli.AddRulesFlag(fs, &o.RuleFiles)
	cmd.MarkFlagsMutuallyExclusive("all-namespaces", "namespace")
	cmd.MarkFlagsMutuallyExclusive("force", "force-conflicts")
	cmd.MarkFlagsMutuallyExclusive("force-replace", "force-conflicts")
}

// Complete reads the arguments.
func (o *AuditOptions) Complete(args []string) {
	if len(args) > 0 {
		o.Release = args[0]
	}
}

// Validate rejects option values that cannot work.
func (o *AuditOptions) Validate() error {
	switch o.Output {
	case "table", "json", "yaml":
	default:
		return fmt.Errorf(`--output must be "table", "json" or "yaml", not %q`, o.Output)
	}
	switch o.ServerSide {
	case "true", "false", "auto":
	default:
		return fmt.Errorf(`--server-side must be "true", "false" or "auto", not %q`, o.ServerSide)
	}
	if o.MaxRevisions < 0 {
		return fmt.Errorf("--max-revisions must be 0 (all) or more, not %d", o.MaxRevisions)
	}
	if o.AllNamespaces && o.Release != "" {
		return fmt.Errorf("give a release or --all-namespaces, not both: a release is looked up in --namespace")
	}
	return nil
}

// Run audits and prints; the error carries the exit code for CI.
func (o *AuditOptions) Run(ctx context.Context) error {
	var err error
	if o.Rules, err = renderer.LoadRuleSets(o.RuleFiles); err != nil {
		return err
	}
	records, err := o.records()
	if err != nil {
		return err
	}
	cluster, err := o.cluster()
	if err != nil {
		return err
	}
	auditor := &audit.Auditor{Cluster: cluster, Options: o.Options}
	auditor.Progress = o.ErrOut
	result, err := auditor.Run(ctx, records)
	if err != nil {
		return err
	}
	if err := o.print(result); err != nil {
		return err
	}
	if code := result.ExitCode(); code != audit.ExitSafe {
		return cli.ExitCode(code)
	}
	return nil
}

// records reads the release records from the storage $HELM_DRIVER names,
// through Helm's SDK, which decodes what Helm 3 and Helm 4 write.
func (o *AuditOptions) records() ([]audit.Record, error) {
	namespace := o.settings.Namespace()
	if o.AllNamespaces {
		namespace = "" // Helm's drivers read every namespace then
	}
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.NewTextHandler(o.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := cfg.Init(o.settings.RESTClientGetter(), namespace, os.Getenv("HELM_DRIVER")); err != nil {
		return nil, fmt.Errorf("initialising Helm's release storage: %w", err)
	}
	var stored []helmrelease.Releaser
	var err error
	if o.Release != "" {
		stored, err = cfg.Releases.History(o.Release)
	} else {
		stored, err = cfg.Releases.ListReleases()
	}
	if err != nil {
		return nil, fmt.Errorf("reading Helm's release records: %w", err)
	}
	if o.Release != "" && len(stored) == 0 {
		return nil, fmt.Errorf("release %q not found in namespace %s", o.Release, namespace)
	}
	records := make([]audit.Record, 0, len(stored))
	for _, s := range stored {
		rel, err := rollback.AsRelease(s)
		if err != nil {
			return nil, err
		}
		records = append(records, audit.Record{Name: rel.Name, Namespace: rel.Namespace, Version: rel.Version,
			Manifest: rel.Manifest, ApplyMethod: rel.ApplyMethod})
	}
	return records, nil
}

// cluster is the audit's access to the API server, through Helm's client
// configuration and its discovery-backed REST mapper.
func (o *AuditOptions) cluster() (*audit.Cluster, error) {
	getter := o.settings.RESTClientGetter()
	config, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig (set --kubeconfig/--kube-context): %w", err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	mapper, err := getter.ToRESTMapper()
	if err != nil {
		return nil, fmt.Errorf("reading the API server's kinds: %w", err)
	}
	return &audit.Cluster{Client: client, Mapper: mapper}, nil
}

func (o *AuditOptions) print(result *audit.Result) error {
	switch o.Output {
	case "json":
		data, err := json.MarshalIndent(result, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(result)
		if err != nil {
			return err
		}
		_, err = o.Out.Write(data)
		return err
	}
	return writeTable(o.Out, result)
}

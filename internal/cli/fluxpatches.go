package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/internal/helmstorage"
	"github.com/pvc-guard/pvc-guard/internal/input"
	"github.com/pvc-guard/pvc-guard/renderer"
)

const fluxPatchesExamples = `  # Pin the claims, StatefulSets and volumes of a chart as Flux will render it (same values as the HelmRelease)
  helm template grafana grafana/grafana -n monitoring -f values.yaml | pvc-guard flux-patches -n monitoring

  # Pin those of a release Flux has installed (helm-controller names it
  # <targetNamespace>-<name> when spec.targetNamespace is set)
  pvc-guard flux-patches --release grafana -n monitoring

  # JSON, for tools that edit the HelmRelease
  pvc-guard flux-patches --manifest rendered.yaml -n monitoring -o json`

// FluxPatchesOptions are the options of `pvc-guard flux-patches`. The
// rendering options (cluster access, --live-state, --on-conflict, --report)
// are the post-renderer's, since it decides what the patches pin.
type FluxPatchesOptions struct {
	*RenderOptions

	Manifest string
	Release  string
	Output   string
}

// NewFluxPatchesCommand builds `pvc-guard flux-patches`.
func NewFluxPatchesCommand(streams Streams) *cobra.Command {
	o := &FluxPatchesOptions{RenderOptions: NewRenderOptions(streams), Output: "yaml"}
	cmd := &cobra.Command{
		Use:   "flux-patches",
		Short: "Print a Flux HelmRelease's spec.postRenderers that pin ruled objects to their live fields",
		Long: `Read a rendered manifest stream (stdin, --manifest, or the stored manifest of
--release) and the live cluster, and print the spec.postRenderers block of a
Flux HelmRelease: a kustomize post-renderer with one patch per object of a
ruled kind (claims, StatefulSets, PersistentVolumes, and the kinds of
--rules) that exists in the cluster.

Each patch sets every field the post-renderer keeps and every immutable
field the live object has (a claim's volumeName, storage class, access
modes, volume mode, selector, data sources, limits; a StatefulSet's
selector, serviceName, podManagementPolicy and its templates' labels,
annotations and immutable fields; a volume's source, nodeAffinity and
claimRef) to its live value, so it holds for later chart versions too;
sizes (a claim's storage request, a template's) are pinned only where the
chart asks for less than the live object has, so charts can still grow
them. A claim or volume is a strategic-merge patch; a StatefulSet, whose
templates are a list without a merge key, a JSON 6902 patch that tests
each template's name before it patches it by index. Conflicts fail as in
"pvc-guard render" unless --on-conflict=keep-live. Kustomize applying the
patches yields the objects the post-renderer would. The cluster is only
read.

Pins go stale, so regenerate them on a schedule. A warning on stderr names
each pin that will not hold: a claim or volume that is not Bound, a
Released volume, or a claim whose volume's claimRef names another claim or
uid (a claim deleted and re-created, which stays Pending on its old volume).
Reading volumes needs "get persistentvolumes"; without it the warning says
that check was skipped.`,
		Example: fluxPatchesExamples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.RenderOptions.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.Manifest, "manifest", "", "read the rendered manifests from this file instead of stdin")
	cmd.Flags().StringVar(&o.Release, "release", "", "read the manifest Helm stored for this release (in --namespace; $HELM_DRIVER secret or configmap)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, `output format: "yaml" or "json"`)
	cmd.MarkFlagsMutuallyExclusive("manifest", "release")
	return cmd
}

// Validate rejects option values that cannot work.
func (o *FluxPatchesOptions) Validate() error {
	if o.Output != "yaml" && o.Output != "json" {
		return fmt.Errorf(`--output must be "yaml" or "json", not %q`, o.Output)
	}
	return o.RenderOptions.Validate()
}

// Run prints the block. Nothing is printed unless every claim could be
// pinned; the report file is written as in render.
func (o *FluxPatchesOptions) Run(ctx context.Context) error {
	rules, err := renderer.LoadRuleSets(o.RuleFiles)
	if err != nil {
		return err
	}
	manifest, err := o.manifest(ctx)
	if err != nil {
		return err
	}
	state, err := o.liveState()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	p := &flux.Patcher{Live: state, Namespace: o.Namespace(), OnConflict: renderer.ConflictPolicy(o.OnConflict), Rules: rules, KubeVersion: o.KubeVersion}
	// A snapshot may hold no volumes, and every volume would seem gone.
	p.CheckVolumes = len(o.LiveStateFiles) == 0
	result, patchErr := p.Patches(ctx, manifest)
	if o.ReportFile != "" && result.Report != nil {
		if err := writeJSON(o.ReportFile, result.Report); err != nil {
			return err
		}
	}
	if patchErr != nil {
		return patchErr
	}
	out, err := o.encode(result.Block)
	if err != nil {
		return err
	}
	if _, err := o.Out.Write(out); err != nil {
		return fmt.Errorf("writing stdout: %w", err)
	}
	patches := patchesOf(result.Block, "")
	fmt.Fprintf(o.ErrOut, "pvc-guard: %d object(s) checked, %d live, %d patch(es) pinning their immutable fields\n", result.Report.ObjectsChecked, result.Report.ObjectsLive, patches)
	for _, warning := range result.Warnings {
		fmt.Fprintf(o.ErrOut, "pvc-guard: warning: %s\n", warning)
	}
	if !p.CheckVolumes && patchesOf(result.Block, "PersistentVolumeClaim") > 0 {
		fmt.Fprintln(o.ErrOut, "pvc-guard: warning: with --live-state, whether each pinned volume still belongs to its claim was not checked")
	}
	return nil
}

// manifest is the stream to pin: the release's stored manifest, the
// --manifest file, or stdin.
func (o *FluxPatchesOptions) manifest(ctx context.Context) ([]byte, error) {
	switch {
	case o.Release != "":
		return o.storedManifest(ctx)
	case o.Manifest != "":
		data, err := os.ReadFile(o.Manifest)
		if err != nil {
			return nil, fmt.Errorf("reading --manifest: %w", err)
		}
		return data, nil
	}
	data, err := input.ReadAll(o.In, nil)
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	return data, nil
}

// storedManifest reads the latest revision's manifest from the release
// storage `pvc-guard rollback` uses ($HELM_DRIVER), as `helm get manifest`
// would print it.
func (o *FluxPatchesOptions) storedManifest(ctx context.Context) ([]byte, error) {
	config, err := o.RESTConfig()
	if err != nil {
		return nil, err
	}
	config.Timeout = o.RequestTimeout
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	store, err := helmstorage.NewStorage(client, os.Getenv("HELM_DRIVER"), o.Namespace())
	if err != nil {
		return nil, err
	}
	manifest, err := store.LastManifest(ctx, o.Release)
	if err != nil {
		return nil, fmt.Errorf("reading release %q in namespace %q: %w", o.Release, o.Namespace(), err)
	}
	return []byte(manifest), nil
}

func (o *FluxPatchesOptions) encode(block *flux.Block) ([]byte, error) {
	if o.Output == "json" {
		data, err := json.MarshalIndent(block, "", "  ")
		return append(data, '\n'), err
	}
	return yaml.Marshal(block)
}

// patchesOf counts the block's patches of kind, or all with "".
func patchesOf(block *flux.Block, kind string) int {
	n := 0
	for _, entry := range block.PostRenderers {
		for _, patch := range entry.Kustomize.Patches {
			if kind == "" || patch.Target.Kind == kind {
				n++
			}
		}
	}
	return n
}

package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"

	"github.com/pvc-guard/pvc-guard/live"
)

// clusterFlags are the cluster-access flags every command shares. They are
// bound to Helm's own settings, so HELM_* variables, kubeconfig loading and
// namespace resolution behave exactly as they do in Helm.
type clusterFlags struct {
	settings  *cli.EnvSettings
	namespace string
}

func newClusterFlags() *clusterFlags {
	settings := cli.New()
	if settings.KubeConfig == "" {
		settings.KubeConfig = os.Getenv("HELM_KUBECONFIG")
	}
	return &clusterFlags{settings: settings}
}

func (f *clusterFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.namespace, "namespace", "n", "", "namespace scope (default: $HELM_NAMESPACE, then the kubeconfig context's, then \"default\")")
	fs.StringVar(&f.settings.KubeConfig, "kubeconfig", f.settings.KubeConfig, "path to the kubeconfig file (default: $HELM_KUBECONFIG, then $KUBECONFIG)")
	fs.StringVar(&f.settings.KubeContext, "kube-context", f.settings.KubeContext, "name of the kubeconfig context to use (default: $HELM_KUBECONTEXT)")
}

// Namespace resolves the namespace in Helm's order: flag, $HELM_NAMESPACE,
// the kubeconfig context's namespace, "default".
func (f *clusterFlags) Namespace() string {
	if f.namespace != "" {
		f.settings.SetNamespace(f.namespace)
	}
	return f.settings.Namespace()
}

// liveCluster is read-only access to the cluster for the renderer.
func (f *clusterFlags) liveCluster(timeout time.Duration) (*live.Cluster, error) {
	config, err := f.settings.RESTClientGetter().ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig (set --kubeconfig/--kube-context): %w", err)
	}
	config.Timeout = timeout
	return live.NewCluster(config)
}

// helmConfiguration sets up Helm's SDK as the Helm CLI does: the release
// storage named by $HELM_DRIVER in the release's namespace, and "helm" as
// the field manager, so later helm commands see their own fields.
func (f *clusterFlags) helmConfiguration(namespace string, logs io.Writer) (*action.Configuration, error) {
	kube.ManagedFieldsManager = "helm"
	level := slog.LevelWarn
	if f.settings.Debug {
		level = slog.LevelDebug
	}
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
	if err := cfg.Init(f.settings.RESTClientGetter(), namespace, os.Getenv("HELM_DRIVER")); err != nil {
		return nil, fmt.Errorf("initialising Helm: %w", err)
	}
	return cfg, nil
}

package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pvc-guard/pvc-guard/live"
)

// Helm's defaults for HELM_BURST_LIMIT and HELM_QPS (0: client-go's own).
const (
	defaultBurstLimit = 100
	defaultQPS        = float32(0)
)

// ClusterFlags are the cluster-access flags every command shares, and the
// HELM_* variables behind them. They mirror Helm 4's cli.EnvSettings
// (pkg/cli/environment.go) with client-go's clientcmd alone: linking Helm's
// SDK would triple the post-renderer's start-up time. pvc-guard-rollback,
// which does link it, binds Helm's own settings instead; a test holds the
// two to the same result.
type ClusterFlags struct {
	namespace string // --namespace

	// KubeConfig is --kubeconfig. Without it, client-go's loading rules
	// read $KUBECONFIG, a list of files like $PATH, as Helm and kubectl do.
	KubeConfig string
	// KubeContext is --kube-context: $HELM_KUBECONTEXT.
	KubeContext string

	// The rest are Helm's other global flags, seeded from the variables
	// Helm reads (a post-renderer gets none of Helm's flags, but inherits
	// its environment). HELM_NAMESPACE is kept apart from --namespace so
	// that NamespaceFlag reports the flag alone.
	envNamespace  string   // HELM_NAMESPACE
	token         string   // HELM_KUBETOKEN
	asUser        string   // HELM_KUBEASUSER
	asGroups      []string // HELM_KUBEASGROUPS, comma-separated
	apiServer     string   // HELM_KUBEAPISERVER
	caFile        string   // HELM_KUBECAFILE
	insecure      bool     // HELM_KUBEINSECURE_SKIP_TLS_VERIFY
	tlsServerName string   // HELM_KUBETLS_SERVER_NAME
	burst         int      // HELM_BURST_LIMIT
	qps           float32  // HELM_QPS
}

// NewClusterFlags reads Helm's environment, as Helm's cli.New does.
func NewClusterFlags() *ClusterFlags {
	return &ClusterFlags{
		KubeContext:   os.Getenv("HELM_KUBECONTEXT"),
		envNamespace:  os.Getenv("HELM_NAMESPACE"),
		token:         os.Getenv("HELM_KUBETOKEN"),
		asUser:        os.Getenv("HELM_KUBEASUSER"),
		asGroups:      envCSV("HELM_KUBEASGROUPS"),
		apiServer:     os.Getenv("HELM_KUBEAPISERVER"),
		caFile:        os.Getenv("HELM_KUBECAFILE"),
		insecure:      envOr("HELM_KUBEINSECURE_SKIP_TLS_VERIFY", false, strconv.ParseBool),
		tlsServerName: os.Getenv("HELM_KUBETLS_SERVER_NAME"),
		burst:         envOr("HELM_BURST_LIMIT", defaultBurstLimit, strconv.Atoi),
		qps:           envOr("HELM_QPS", defaultQPS, parseFloat32),
	}
}

// AddFlags adds Helm's global flags that decide which cluster is read and
// as whom, named and described as in Helm, defaulting to Helm's variables.
func (f *ClusterFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.namespace, "namespace", "n", "", "namespace scope (default: $HELM_NAMESPACE, then the kubeconfig context's, then \"default\")")
	fs.StringVar(&f.KubeConfig, "kubeconfig", f.KubeConfig, "path to the kubeconfig file (default: the files $KUBECONFIG lists, else ~/.kube/config)")
	fs.StringVar(&f.KubeContext, "kube-context", f.KubeContext, "name of the kubeconfig context to use (default: $HELM_KUBECONTEXT)")
	fs.StringVar(&f.token, "kube-token", f.token, "bearer token used for authentication (default: $HELM_KUBETOKEN)")
	fs.StringVar(&f.asUser, "kube-as-user", f.asUser, "username to impersonate for the operation (default: $HELM_KUBEASUSER)")
	fs.StringArrayVar(&f.asGroups, "kube-as-group", f.asGroups, "group to impersonate for the operation; repeatable (default: $HELM_KUBEASGROUPS)")
	fs.StringVar(&f.apiServer, "kube-apiserver", f.apiServer, "the address and the port for the Kubernetes API server (default: $HELM_KUBEAPISERVER)")
	fs.StringVar(&f.caFile, "kube-ca-file", f.caFile, "the certificate authority file for the Kubernetes API server connection (default: $HELM_KUBECAFILE)")
	fs.StringVar(&f.tlsServerName, "kube-tls-server-name", f.tlsServerName, "server name to use for Kubernetes API server certificate validation (default: $HELM_KUBETLS_SERVER_NAME)")
	fs.BoolVar(&f.insecure, "kube-insecure-skip-tls-verify", f.insecure, "do not check the Kubernetes API server's certificate (default: $HELM_KUBEINSECURE_SKIP_TLS_VERIFY)")
	fs.IntVar(&f.burst, "burst-limit", f.burst, "client-side default throttling limit (default: $HELM_BURST_LIMIT, else 100)")
	fs.Float32Var(&f.qps, "qps", f.qps, "queries per second to the Kubernetes API, not including bursting (default: $HELM_QPS)")
}

// NamespaceFlag is --namespace as given, "" when it was not.
func (f *ClusterFlags) NamespaceFlag() string { return f.namespace }

// Namespace resolves the namespace in Helm's order: flag, $HELM_NAMESPACE,
// the kubeconfig context's namespace, "default". Like Helm, a kubeconfig
// that does not load falls back to the flag or variable, then "default".
func (f *ClusterFlags) Namespace() string {
	if ns, _, err := f.clientConfig().Namespace(); err == nil {
		return ns
	}
	if ns := f.namespaceOverride(); ns != "" {
		return ns
	}
	return "default"
}

func (f *ClusterFlags) namespaceOverride() string {
	if f.namespace != "" {
		return f.namespace
	}
	return f.envNamespace
}

// RESTConfig is the client configuration Helm would build from the same
// flags and environment.
func (f *ClusterFlags) RESTConfig() (*rest.Config, error) {
	config, err := f.clientConfig().ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig (set --kubeconfig/--kube-context): %w", err)
	}
	config.Burst = f.burst
	config.QPS = f.qps
	config.UserAgent = "pvc-guard/" + GetBuildInfo().Version
	return config, nil
}

// clientConfig loads the kubeconfig with the loading rules and overrides of
// cli-runtime's ConfigFlags, to which Helm binds every setting (set or
// not: an empty override changes nothing).
func (f *ClusterFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	rules.ExplicitPath = f.KubeConfig

	overrides := &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}
	overrides.AuthInfo.Token = f.token
	overrides.AuthInfo.Impersonate = f.asUser
	overrides.AuthInfo.ImpersonateGroups = f.asGroups
	overrides.ClusterInfo.Server = f.apiServer
	overrides.ClusterInfo.TLSServerName = f.tlsServerName
	overrides.ClusterInfo.CertificateAuthority = f.caFile
	overrides.ClusterInfo.InsecureSkipTLSVerify = f.insecure
	overrides.CurrentContext = f.KubeContext
	overrides.Context.Namespace = f.namespaceOverride()
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// liveCluster is read-only access to the cluster for the renderer.
func (f *ClusterFlags) liveCluster(timeout time.Duration) (*live.Cluster, error) {
	config, err := f.RESTConfig()
	if err != nil {
		return nil, err
	}
	config.Timeout = timeout
	return live.NewCluster(config)
}

// envOr parses the variable name, as Helm does: unset or unparsable means def.
func envOr[T any](name string, def T, parse func(string) (T, error)) T {
	value, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	parsed, err := parse(value)
	if err != nil {
		return def
	}
	return parsed
}

func parseFloat32(s string) (float32, error) {
	f, err := strconv.ParseFloat(s, 32)
	return float32(f), err
}

// envCSV splits a comma-separated variable, ignoring commas and spaces at
// either end, as Helm does.
func envCSV(name string) []string {
	trimmed := strings.Trim(os.Getenv(name), ", ")
	if trimmed == "" {
		return nil
	}
	return strings.Split(trimmed, ",")
}

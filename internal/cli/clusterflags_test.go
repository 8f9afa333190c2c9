package cli

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clientView is what the cluster flags decide: the namespace and the
// fields of the client configuration that Helm's settings set.
type clientView struct {
	Namespace   string
	Host        string
	Token       string
	User        string
	Groups      []string
	CAFile      string
	CAData      bool
	Insecure    bool
	ServerName  string
	Burst       int
	QPS         float32
	ConfigError bool
}

func viewOf(namespace string, config *rest.Config, err error) clientView {
	if err != nil {
		return clientView{Namespace: namespace, ConfigError: true}
	}
	return clientView{
		Namespace:  namespace,
		Host:       config.Host,
		Token:      config.BearerToken,
		User:       config.Impersonate.UserName,
		Groups:     config.Impersonate.Groups,
		CAFile:     config.TLSClientConfig.CAFile,
		CAData:     len(config.TLSClientConfig.CAData) > 0,
		Insecure:   config.TLSClientConfig.Insecure,
		ServerName: config.TLSClientConfig.ServerName,
		Burst:      config.Burst,
		QPS:        config.QPS,
	}
}

func TestClusterFlagsFollowHelmsEnvironment(t *testing.T) {
	// internal/rollbackcmd's cluster-flag test uses them too.
	kubeconfig, _ := filepath.Abs("../../testdata/kubeconfig/two-clusters.yaml")
	caFile, _ := filepath.Abs("../../testdata/kubeconfig/ca.crt")
	// base is the kubeconfig's current context with Helm's defaults.
	base := clientView{Namespace: "context-ns", Host: "https://one.example:6443", Token: "kubeconfig-token", CAData: true, Burst: 100}
	with := func(change func(*clientView)) clientView {
		v := base
		change(&v)
		return v
	}
	onTwo := func(v *clientView) { v.Host, v.CAData, v.Namespace = "https://two.example:6443", false, "default" }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want clientView
	}{
		{name: "KUBECONFIG", env: map[string]string{"KUBECONFIG": kubeconfig}, want: base},
		{name: "KUBECONFIG is a list: a missing file is skipped", env: map[string]string{"KUBECONFIG": "/nonexistent" + string(filepath.ListSeparator) + kubeconfig}, want: base},
		{name: "HELM_KUBECONFIG is no Helm variable", env: map[string]string{"HELM_KUBECONFIG": kubeconfig},
			want: clientView{Namespace: "default", Host: clientcmd.ClusterDefaults.Server, Burst: 100}},
		{name: "--kubeconfig before KUBECONFIG", env: map[string]string{"KUBECONFIG": "/nonexistent"}, args: []string{"--kubeconfig", kubeconfig}, want: base},
		{name: "HELM_NAMESPACE before the context's", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_NAMESPACE": "env-ns"},
			want: with(func(v *clientView) { v.Namespace = "env-ns" })},
		{name: "--namespace before HELM_NAMESPACE", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_NAMESPACE": "env-ns"}, args: []string{"-n", "flag-ns"},
			want: with(func(v *clientView) { v.Namespace = "flag-ns" })},
		{name: "HELM_KUBECONTEXT", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBECONTEXT": "without-ns"}, want: with(onTwo)},
		{name: "--kube-context before HELM_KUBECONTEXT", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBECONTEXT": "with-ns"}, args: []string{"--kube-context", "without-ns"},
			want: with(onTwo)},
		{name: "HELM_KUBETOKEN", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBETOKEN": "env-token"},
			want: with(func(v *clientView) { v.Token = "env-token" })},
		{name: "HELM_KUBEASUSER and HELM_KUBEASGROUPS", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBEASUSER": "jane", "HELM_KUBEASGROUPS": ", admins, ops ,"},
			want: with(func(v *clientView) { v.User, v.Groups = "jane", []string{"admins", " ops"} })},
		{name: "the flags before the variables", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBETOKEN": "env-token", "HELM_KUBEASGROUPS": "env-group", "HELM_QPS": "1"},
			args: []string{"--kube-token", "flag-token", "--kube-as-user=jane", "--kube-as-group", "admins", "--kube-as-group", "ops",
				"--kube-apiserver", "https://elsewhere:443", "--kube-tls-server-name", "api.internal", "--burst-limit", "7", "--qps", "2.5"},
			want: with(func(v *clientView) {
				v.Token, v.User, v.Groups, v.Host, v.ServerName, v.Burst, v.QPS = "flag-token", "jane", []string{"admins", "ops"}, "https://elsewhere:443", "api.internal", 7, 2.5
			})},
		{name: "--kube-ca-file and --kube-insecure-skip-tls-verify", env: map[string]string{"KUBECONFIG": kubeconfig}, args: []string{"--kube-ca-file", caFile, "--kube-insecure-skip-tls-verify"},
			want: with(func(v *clientView) { v.CAFile, v.CAData, v.Insecure = caFile, false, true })},
		{name: "HELM_KUBEAPISERVER", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBEAPISERVER": "https://elsewhere:443"},
			want: with(func(v *clientView) { v.Host = "https://elsewhere:443" })},
		{name: "HELM_KUBECAFILE replaces the kubeconfig's CA", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBECAFILE": caFile},
			want: with(func(v *clientView) { v.CAFile, v.CAData = caFile, false })},
		{name: "HELM_KUBEINSECURE_SKIP_TLS_VERIFY drops the CA", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "true"},
			want: with(func(v *clientView) { v.Insecure, v.CAData = true, false })},
		{name: "an unparsable HELM_KUBEINSECURE_SKIP_TLS_VERIFY is false", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "maybe"}, want: base},
		{name: "HELM_KUBETLS_SERVER_NAME", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_KUBETLS_SERVER_NAME": "api.internal"},
			want: with(func(v *clientView) { v.ServerName = "api.internal" })},
		{name: "HELM_BURST_LIMIT and HELM_QPS", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_BURST_LIMIT": "7", "HELM_QPS": "2.5"},
			want: with(func(v *clientView) { v.Burst, v.QPS = 7, 2.5 })},
		{name: "unparsable HELM_BURST_LIMIT and HELM_QPS keep the defaults", env: map[string]string{"KUBECONFIG": kubeconfig, "HELM_BURST_LIMIT": "many", "HELM_QPS": ""}, want: base},
		{name: "a broken kubeconfig: the flag's namespace, and an error", args: []string{"--kubeconfig", "/nonexistent", "-n", "flag-ns"},
			want: clientView{Namespace: "flag-ns", ConfigError: true}},
		{name: "a missing KUBECONFIG file is skipped, as Helm and kubectl skip it", env: map[string]string{"KUBECONFIG": "/nonexistent", "HELM_NAMESPACE": "env-ns"},
			want: clientView{Namespace: "env-ns", Host: clientcmd.ClusterDefaults.Server, Burst: 100}},
		{name: "no kubeconfig at all: Helm's default server", want: clientView{Namespace: "default", Host: clientcmd.ClusterDefaults.Server, Burst: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			flags := NewClusterFlags()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			flags.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			config, err := flags.RESTConfig()
			if got := viewOf(flags.Namespace(), config, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v (error: %v)", got, tt.want, err)
			}
		})
	}
}

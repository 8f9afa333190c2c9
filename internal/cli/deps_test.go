package cli

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// notInPostRenderer are the packages (with everything below them) that
// pvc-guard must not link. Helm starts pvc-guard for every upgrade, and
// the package initialisation of Helm's SDK and of what it pulls in took
// about 55 ms of its 80 ms start-up; the SDK belongs in pvc-guard-rollback.
var notInPostRenderer = []string{
	"helm.sh",
	"k8s.io/cli-runtime",
	"k8s.io/kubectl",
	"sigs.k8s.io/controller-runtime",
	"oras.land",
	"github.com/santhosh-tekuri/jsonschema",
	"k8s.io/client-go/kubernetes", // the typed clientset; its scheme registers every API group
	// client-go's discovery imports that scheme; live discovers kinds
	// outside its table with plain JSON GETs instead (live/resources.go).
	"k8s.io/client-go/discovery",
}

// TestBinaryDependencies lists each binary's packages as the Go tool links
// them. pvc-guard-rollback is the control: it must be seen to link Helm's
// SDK, or the listing proves nothing.
func TestBinaryDependencies(t *testing.T) {
	tests := []struct {
		binary    string
		forbidden []string
		required  string
	}{
		{binary: "github.com/pvc-guard/pvc-guard", forbidden: notInPostRenderer, required: "k8s.io/client-go/tools/clientcmd"},
		{binary: "github.com/pvc-guard/pvc-guard/cmd/pvc-guard-rollback", required: "helm.sh/helm/v4/pkg/action"},
	}
	for _, tt := range tests {
		t.Run(tt.binary, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", tt.binary).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := strings.Fields(string(out))
			if !slices.Contains(deps, tt.required) {
				t.Errorf("%s does not link %s; the listing is wrong:\n%s", tt.binary, tt.required, out)
			}
			for _, dep := range deps {
				for _, prefix := range tt.forbidden {
					if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
						t.Errorf("%s links %s", tt.binary, dep)
					}
				}
			}
		})
	}
}

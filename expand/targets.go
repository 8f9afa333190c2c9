// Package expand grows the volumes of StatefulSets through a Helm upgrade,
// which Kubernetes cannot do in place (a set's volumeClaimTemplates are
// immutable): it checks the set can be grown safely, saves it, grows each
// claim, deletes the set with orphan propagation so its pods keep running,
// lets Helm create it again with the new templates, and verifies that the
// new set adopted the pods, re-creating the saved set when Helm did not.
//
// The plan comes from the renderer: a StatefulSet template that asks for
// more storage than the live set is a conflict of the renderer's
// never-shrink rule, and every other conflict stays a conflict.
package expand

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// templateStorage matches the renderer's path of a claim template's storage
// request, as renderer.Finding.Field writes it.
var templateStorage = regexp.MustCompile(`^spec\.volumeClaimTemplates\[metadata\.name=([^\]]+)\]\.spec\.resources\.requests\.storage$`)

// Target is one StatefulSet whose claim templates the chart grows.
type Target struct {
	Namespace, Name string
	// Templates are the grown templates, by name.
	Templates []TemplateGrowth
}

// TemplateGrowth is one claim template's size, live and in the chart.
type TemplateGrowth struct {
	Template string
	From, To resource.Quantity
}

func (t *Target) String() string { return "StatefulSet " + t.Namespace + "/" + t.Name }

// Targets splits the renderer's conflicts into the StatefulSets to grow and
// the conflicts that growing does not resolve, which must stop the upgrade.
// A growth conflict whose sizes are not quantities, or do not grow, is an
// error: it is not a conflict the renderer makes.
func Targets(conflicts []renderer.Finding) ([]*Target, []renderer.Finding, error) {
	var targets []*Target
	var rest []renderer.Finding
	for _, c := range conflicts {
		m := templateStorage.FindStringSubmatch(c.Field)
		if c.Kind != "StatefulSet" || m == nil {
			rest = append(rest, c)
			continue
		}
		from, err := quantity(c.Live)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: live size: %w", c.Resource(), c.Field, err)
		}
		to, err := quantity(c.Chart)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: chart size: %w", c.Resource(), c.Field, err)
		}
		if to.Cmp(from) <= 0 {
			return nil, nil, fmt.Errorf("%s %s: the chart's size does not grow the template", c.Resource(), c.Field)
		}
		i := slices.IndexFunc(targets, func(t *Target) bool { return t.Namespace == c.Namespace && t.Name == c.Name })
		if i < 0 {
			targets = append(targets, &Target{Namespace: c.Namespace, Name: c.Name})
			i = len(targets) - 1
		}
		targets[i].Templates = append(targets[i].Templates, TemplateGrowth{Template: m[1], From: from, To: to})
	}
	return targets, rest, nil
}

func quantity(v any) (resource.Quantity, error) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case float64, int64, int:
		s = fmt.Sprint(v)
	default:
		return resource.Quantity{}, fmt.Errorf("%v is not a quantity", v)
	}
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("%q: %w", s, err)
	}
	return q, nil
}

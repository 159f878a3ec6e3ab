package kube

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/berth-dev/berth/spec"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ErrRefused is what Render's error wraps when a stack uses something the
// mapping to Kubernetes cannot express (tested with errors.Is).
var ErrRefused = errors.New("not mapped to Kubernetes")

// Options choose how Render maps what Compose leaves to the host.
type Options struct {
	// Namespace is set on every object; "" leaves it to whoever applies.
	Namespace string
	// PublishedType is the Service type of a service with published
	// ports: "LoadBalancer" (the default) or "NodePort".
	PublishedType string
	// StorageClass of every PersistentVolumeClaim; "" is the cluster's default.
	StorageClass string
	// VolumeSize is the size of a claim without x-kube.size; "" is 1Gi.
	VolumeSize string
	// AllowHostPath maps bind mounts to hostPath volumes instead of
	// refusing them.
	AllowHostPath bool
	// WaitImage runs the init containers that wait for dependencies
	// (it must hold kubectl); "" is DefaultWaitImage.
	WaitImage string
	// ReadFile reads the files of configs and secrets; nil is os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// DefaultWaitImage is the image of the init containers that wait for a
// service's dependencies.
const DefaultWaitImage = "registry.k8s.io/kubectl:v1.37.2"

// Render maps p to Kubernetes objects, in apply order. Everything the
// mapping cannot express is refused in one error (wrapping ErrRefused)
// with a line per key naming file and line.
func Render(p *spec.Project, o Options) ([]Object, error) {
	r := &renderer{p: p, o: o}
	if r.o.PublishedType == "" {
		r.o.PublishedType = "LoadBalancer"
	}
	if r.o.PublishedType != "LoadBalancer" && r.o.PublishedType != "NodePort" {
		return nil, fmt.Errorf("published service type %q must be LoadBalancer or NodePort", o.PublishedType)
	}
	if r.o.VolumeSize == "" {
		r.o.VolumeSize = "1Gi"
	}
	if _, err := resource.ParseQuantity(r.o.VolumeSize); err != nil {
		return nil, fmt.Errorf("volume size %q: %w", o.VolumeSize, err)
	}
	if r.o.WaitImage == "" {
		r.o.WaitImage = DefaultWaitImage
	}
	if r.o.ReadFile == nil {
		r.o.ReadFile = os.ReadFile
	}
	r.render()
	if err := p.Report(r.found); err != nil {
		return nil, err
	}
	sortObjects(r.objs)
	return r.objs, nil
}

// renderer holds one Render's state: the objects so far and the refusals.
type renderer struct {
	p     *spec.Project
	o     Options
	objs  []Object
	found []spec.Finding

	kinds      map[string]string // service name: its workload kind
	ports      map[string][]port // service name: its ports
	needWaiter bool              // some pod waits for another: render the waiter account
}

// refuse records that the key at path cannot be mapped.
func (r *renderer) refuse(msg string, path ...string) {
	r.found = append(r.found, spec.Finding{Kind: ErrRefused, Path: path, Msg: msg})
}

func (r *renderer) add(objs ...Object) { r.objs = append(r.objs, objs...) }

func (r *renderer) render() {
	r.kinds, r.ports = map[string]string{}, map[string][]port{}
	for _, s := range r.p.Services {
		r.kinds[s.Name] = r.workloadKind(s)
		r.ports[s.Name] = r.servicePorts(s)
	}
	for _, s := range r.p.Services {
		r.service(s)
	}
	r.waiter()
	r.files()
	r.volumes()
	r.networks()
}

// meta is the metadata of an object of the project, of one service when
// service is not "".
func (r *renderer) meta(name, service string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: r.o.Namespace, Labels: r.labels(service)}
}

// labels are the labels berth puts on an object (and selects pods by).
func (r *renderer) labels(service string) map[string]string {
	l := map[string]string{LabelProject: r.p.Name, LabelManagedBy: FieldManager}
	if service != "" {
		l[LabelService] = service
	}
	return l
}

// selector selects the pods of one service.
func (r *renderer) selector(service string) map[string]string {
	return map[string]string{LabelProject: r.p.Name, LabelService: service}
}

// objectName is the name of a project-wide object (a claim, a config map,
// a policy): "<project>-<key>", refused at path when Kubernetes would not
// take it.
func (r *renderer) objectName(key string, path ...string) (string, bool) {
	name := r.p.Name + "-" + key
	if errs := content.IsDNS1123Subdomain(name); len(errs) > 0 {
		r.refuse(fmt.Sprintf("the object name %q is not a valid Kubernetes name: %s", name, strings.Join(errs, "; ")), path...)
		return "", false
	}
	return name, true
}

package kube

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/api/validate/content"
)

// podVolumes maps a service's mounts, configs and secrets to the pod's
// volumes and the container's mounts: a named volume is its claim, an
// anonymous one and tmpfs an emptyDir (tmpfs in memory), a bind a hostPath
// only when allowed; a config or secret is its file from the ConfigMap or
// Secret, at the Compose path with its mode.
func (r *renderer) podVolumes(s spec.Service) ([]corev1.VolumeMount, []corev1.Volume) {
	at := serviceAt(s.Name)
	var mounts []corev1.VolumeMount
	var vols []corev1.Volume
	add := func(src corev1.VolumeSource, m corev1.VolumeMount) {
		m.Name = fmt.Sprintf("mount-%d", len(vols))
		vols = append(vols, corev1.Volume{Name: m.Name, VolumeSource: src})
		mounts = append(mounts, m)
	}
	for _, m := range s.Mounts {
		vm := corev1.VolumeMount{MountPath: m.Target, ReadOnly: m.ReadOnly}
		if m.Propagation != "" {
			r.refuse("volumes: bind propagation "+m.Propagation+" cannot be mapped to Kubernetes", at("volumes")...)
		}
		switch m.Type {
		case spec.MountVolume:
			if m.Source == "" {
				add(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, vm)
				continue
			}
			if claim, ok := r.claimName(m.Source); ok {
				add(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: m.ReadOnly}}, vm)
			}
		case spec.MountTmpfs:
			dir := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
			if m.TmpfsSize > 0 {
				dir.SizeLimit = resource.NewQuantity(m.TmpfsSize, resource.BinarySI)
			}
			if m.TmpfsMode != 0 {
				r.refuse("tmpfs mode cannot be mapped to Kubernetes", at("tmpfs")...)
			}
			add(corev1.VolumeSource{EmptyDir: dir}, vm)
		case spec.MountBind:
			if !r.o.AllowHostPath {
				r.refuse("bind mount of "+m.Source+" refused: a pod may run on any node (--allow-hostpath maps it to a hostPath volume)", at("volumes")...)
				continue
			}
			t := corev1.HostPathUnset
			if m.CreateHostPath {
				t = corev1.HostPathDirectoryOrCreate
			}
			add(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: m.Source, Type: &t}}, vm)
		}
	}
	for _, f := range s.Configs {
		if name, ok := r.fileObject(r.p.Configs, "configs", f.Source); ok {
			add(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name},
				Items: r.fileItems(s, "configs", f)}}, fileMount(f))
		}
	}
	for _, f := range s.Secrets {
		if name, ok := r.fileObject(r.p.Secrets, "secrets", f.Source); ok {
			add(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name, Items: r.fileItems(s, "secrets", f)}}, fileMount(f))
		}
	}
	return mounts, vols
}

// claimName is the claim of project volume key: "<project>-<key>", or
// the volume's own name when it is external.
func (r *renderer) claimName(key string) (string, bool) {
	v := r.p.Volumes[key]
	if !v.External {
		return r.objectName(key, "volumes", key)
	}
	if errs := content.IsDNS1123Subdomain(v.Name); len(errs) > 0 {
		r.refuse(fmt.Sprintf("external volume %q is not a Kubernetes claim name: %s", v.Name, strings.Join(errs, "; ")), "volumes", key)
		return "", false
	}
	return v.Name, true
}

// volumes renders a PersistentVolumeClaim per project volume that is not
// external: ReadWriteOnce, of x-kube.size or the default size.
func (r *renderer) volumes() {
	for _, key := range slices.Sorted(maps.Keys(r.p.Volumes)) {
		v := r.p.Volumes[key]
		size := r.extension("volumes", key, "size")["size"]
		if v.External {
			continue
		}
		if v.Driver != "" && v.Driver != "local" {
			r.refuse("volume driver "+v.Driver+" cannot be mapped to Kubernetes (use a storage class)", "volumes", key, "driver")
		}
		if len(v.DriverOpts) > 0 {
			r.refuse("volume driver_opts cannot be mapped to Kubernetes", "volumes", key, "driver_opts")
		}
		if size == "" {
			size = r.o.VolumeSize
		}
		q, err := resource.ParseQuantity(size)
		if err != nil {
			r.refuse("x-kube.size "+size+" is not a quantity (like 10Gi)", "volumes", key, ExtensionKey, "size")
			continue
		}
		name, ok := r.objectName(key, "volumes", key)
		if !ok {
			continue
		}
		meta := r.meta(name, "")
		maps.Copy(meta.Labels, r.objectLabels(v.Labels, "volumes", key))
		pvc := &corev1.PersistentVolumeClaim{TypeMeta: typeMeta("v1", "PersistentVolumeClaim"), ObjectMeta: meta,
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: q}},
			}}
		if r.o.StorageClass != "" {
			pvc.Spec.StorageClassName = &r.o.StorageClass
		}
		r.add(newObject(pvc))
	}
}

// objectLabels are the labels of a network or volume, refused where
// Kubernetes would not take them.
func (r *renderer) objectLabels(labels map[string]string, kind, key string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		if errs := append(content.IsLabelKey(k), content.IsLabelValue(v)...); len(errs) > 0 {
			r.refuse(fmt.Sprintf("label %q=%q is not a Kubernetes label: %s", k, v, strings.Join(errs, "; ")), kind, key, "labels", k)
			continue
		}
		if !strings.HasPrefix(k, "berth.dev/") && k != LabelManagedBy {
			out[k] = v
		}
	}
	return out
}

// fileMount mounts one config or secret file at its Compose path.
func fileMount(f spec.FileRef) corev1.VolumeMount {
	return corev1.VolumeMount{MountPath: f.Target, SubPath: path.Base(f.Target), ReadOnly: true}
}

// fileItems puts the content at the file's name with its mode (0444 by
// default, as Compose); uid and gid have no Kubernetes form.
func (r *renderer) fileItems(s spec.Service, kind string, f spec.FileRef) []corev1.KeyToPath {
	if (f.UID != nil && *f.UID != 0) || (f.GID != nil && *f.GID != 0) {
		r.refuse(kind+": uid and gid of "+f.Source+" cannot be mapped to Kubernetes", serviceAt(s.Name)(kind)...)
	}
	mode := int32(0o444)
	if f.Mode != nil {
		mode = int32(*f.Mode)
	}
	return []corev1.KeyToPath{{Key: fileKey, Path: path.Base(f.Target), Mode: &mode}}
}

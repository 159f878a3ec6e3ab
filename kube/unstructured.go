package kube

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func unstructuredInt(m map[string]any, path ...string) (int64, bool, error) {
	return unstructured.NestedInt64(m, path...)
}

func unstructuredSlice(m map[string]any, path ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(m, path...)
}

func lower(s string) string { return strings.ToLower(s) }

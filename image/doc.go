// Package image is berth's content store: image blobs in an OCI layout,
// layers unpacked once into content-addressed snapshot directories, pulls
// from registries with go-containerregistry, and import of root filesystem
// tarballs. Extraction never writes outside a snapshot.
package image

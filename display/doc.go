// Package display renders values as MIME bundles and publishes them to the running
// notebook cell.
package display

package integrity

// SetVolumePages sets the page sizes of volume walks until restore is
// called, so that tests page through small volumes.
func SetVolumePages(listing, index int) (restore func()) {
	old := volumePages
	volumePages.listing, volumePages.index = listing, index
	return func() { volumePages = old }
}

package commitmessage

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/driftless/driftless/internal/engine/imageupdate"
)

// Updated is the template field Flux's v1beta1 API had, `.Updated`, which
// Flux 2.9 refuses: Driftless renders it so that templates written for it
// (the mission's example 04 ranges over .Updated.Images) keep working.
type Updated struct {
	// Files maps a changed file to its changed images by object.
	Files map[string]UpdatedFile
}

// UpdatedFile is the images changed in one file, by object.
type UpdatedFile struct {
	Objects map[ObjectIdentifier][]UpdatedImage
}

// UpdatedImage is one changed image.
type UpdatedImage struct {
	// Name is the image name without tag, NewTag the tag written and
	// OldTag the tag replaced ("" when the marker set no tag).
	Name, NewTag, OldTag string
	// Policy is the ImagePolicy that picked the image.
	Policy types.NamespacedName
}

// String is the image as name:tag.
func (i UpdatedImage) String() string { return i.Name + ":" + i.NewTag }

// Images lists each changed image once, in name order.
func (u Updated) Images() []UpdatedImage {
	seen := map[UpdatedImage]bool{}
	var out []UpdatedImage
	for _, file := range u.Files {
		for _, images := range file.Objects {
			for _, img := range images {
				key := img
				key.OldTag = ""
				if !seen[key] {
					seen[key] = true
					out = append(out, img)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].String() != out[j].String() {
			return out[i].String() < out[j].String()
		}
		return out[i].Policy.String() < out[j].Policy.String()
	})
	return out
}

// Objects merges the files' images by object.
func (u Updated) Objects() map[ObjectIdentifier][]UpdatedImage {
	out := map[ObjectIdentifier][]UpdatedImage{}
	for _, file := range sortedKeys(u.Files) {
		for obj, images := range u.Files[file].Objects {
			out[obj] = append(out[obj], images...)
		}
	}
	return out
}

// newUpdated builds .Updated from the setters' changes and the policies'
// images they wrote.
func newUpdated(changes []imageupdate.Change, policies map[string]imageupdate.Image) Updated {
	u := Updated{Files: map[string]UpdatedFile{}}
	for _, ch := range changes {
		ns, rest, _ := strings.Cut(ch.Setter, ":")
		name, field, _ := strings.Cut(rest, ":")
		img, ok := policies[ns+":"+name]
		if !ok {
			continue
		}
		oldTag := ""
		switch field {
		case "":
			_, oldTag, _ = imageupdate.SplitRef(ch.OldValue)
		case "tag":
			oldTag = ch.OldValue
		}
		file, ok := u.Files[ch.File]
		if !ok {
			file = UpdatedFile{Objects: map[ObjectIdentifier][]UpdatedImage{}}
			u.Files[ch.File] = file
		}
		id := ObjectIdentifier{Name: ch.Object.Name, Namespace: ch.Object.Namespace, APIVersion: ch.Object.APIVersion, Kind: ch.Object.Kind}
		file.Objects[id] = append(file.Objects[id], UpdatedImage{Name: img.Name, NewTag: img.Tag, OldTag: oldTag,
			Policy: types.NamespacedName{Namespace: ns, Name: name}})
	}
	return u
}

// The libvips path linked into this program (scalekit-heavy, the tests).

#include "vips_path.h"

namespace scalekit::jobs::thumbnail::detail {

const vips_path& get_vips_path() { return *scalekit_thumbnail_vips_path(); }

}  // namespace scalekit::jobs::thumbnail::detail

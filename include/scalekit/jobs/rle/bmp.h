#pragma once
// 1-bit BMPs, read and written by hand: the RLE job's own image format, so
// that `rle` runs in the light executable with no image library.
//
// Reading takes an uncompressed 1-bit BMP with any of the usual headers: the
// OS/2 core header (12 bytes), OS/2 2.x (16, 64), and Windows' INFO, V2, V3,
// V4 and V5 headers (40, 52, 56, 108, 124; Pillow writes INFO, ImageMagick
// V4 or V5). Rows are bottom-up or top-down (a negative height), each padded
// to 4 bytes. A pixel's colour is its palette entry's (index 1 may be the
// dark one): white when R + G + B >= 384, the rule of the FreeImage reader
// this one replaces; an entry the palette lacks is black. Anything else (BMPs
// of other depths or compressions, other formats) is `one_bit == false`: for
// another reader.
//
// parse_bmp() reads headers only, from the first bytes of a file (the fuzzer
// drives it with bmp_row()); it allocates nothing. Thread safety: pure
// functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scalekit/core/status.h"

namespace scalekit::jobs::rle {

class bitmap;

/// How many of a file's first bytes parse_bmp() needs (the largest header
/// with a two-entry palette).
inline constexpr std::size_t bmp_head_bytes = 14 + 124 + 2 * 4;

/// What parse_bmp() found.
struct bmp_info {
  /// An uncompressed 1-bit BMP; when false, nothing below is set.
  bool one_bit = false;
  std::uint32_t width = 0, height = 0;  ///< as the header says (each < 2^31)
  std::uint64_t first_row = 0;          ///< file offset of image row 0 (the top row)
  std::int64_t row_step = 0;            ///< bytes from row y to row y + 1 (negative when bottom-up)
  std::uint64_t stride = 0;             ///< bytes per stored row, padding included
  /// The file size the pixels need: the last stored row may lack its padding.
  std::uint64_t bytes_needed = 0;
  /// How stored bits become colours (1 = white in the RLE format).
  enum class colours {
    as_stored,  ///< index 1 white, index 0 black
    inverted,   ///< index 0 white
    all_black,  ///< both entries dark
    all_white,  ///< both entries light
  } palette = colours::as_stored;
};

/// Parse the headers at the start of a file of `file_size` bytes. `head`
/// holds the file's first min(file_size, bmp_head_bytes) bytes (or more).
/// Returns one_bit == false for anything that is not an uncompressed 1-bit
/// BMP, and corruption ("a 1-bit BMP whose pixels start past its end", ...)
/// for one whose headers contradict themselves or the file's size; the
/// message does not name the file. A width or height too large for the RLE
/// format is not checked here.
result<bmp_info> parse_bmp(std::string_view head, std::uint64_t file_size);

/// Image row y of a BMP that parse_bmp() took, inside `file` (the whole
/// file). REQUIRES: info.one_bit, y < info.height, file.size() >=
/// info.bytes_needed.
inline const std::uint8_t* bmp_row(std::string_view file, const bmp_info& info, std::uint32_t y) {
  return reinterpret_cast<const std::uint8_t*>(file.data()) + info.first_row + info.row_step * std::int64_t{y};
}

/// The whole file of a 1-bit BMP of `image`: the INFO header, a black and a
/// white palette entry, rows bottom-up (what Pillow writes). REQUIRES: the
/// image has pixels.
std::string bmp_file(const bitmap& image);

}  // namespace scalekit::jobs::rle

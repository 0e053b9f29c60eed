#pragma once
// The RLE job: chapter 14's case study, the run-length compression of 1-bit
// images, byte-identical to the seed's compress_image on 1-bit input.
//
// Format (../shared/spec/rle-format.md): width and height as 2-byte
// little-endian, then every row top to bottom; a row's bits are cut into
// chunks of 127 (the last one shorter), and each maximal run of equal bits
// inside a chunk is one byte (bit << 7) | length. A bit is 1 where the pixel
// is white.
//
// encode/decode are pure functions (the fuzzer drives decode); load/save go
// through image libraries; the executor tasks let rows and files be spread
// over threads or processes, as the seed's nested pools do.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scalekit/core/executor.h"
#include "scalekit/core/status.h"

namespace scalekit::jobs::rle {

/// The format's limit: sides are 2-byte numbers.
inline constexpr std::uint32_t max_side = 65535;

/// A 1-bit image: rows of packed bits, the leftmost pixel in the most
/// significant bit, 1 = white. The buffer has 8 spare bytes at its end so that
/// scanning code may read whole words.
class bitmap {
 public:
  bitmap() = default;
  bitmap(std::uint32_t width, std::uint32_t height);  ///< all black
  [[nodiscard]] std::uint32_t width() const noexcept { return width_; }
  [[nodiscard]] std::uint32_t height() const noexcept { return height_; }
  [[nodiscard]] std::size_t stride() const noexcept { return stride_; }  ///< bytes per row
  [[nodiscard]] const std::uint8_t* row(std::uint32_t y) const { return bits_.data() + y * stride_; }
  [[nodiscard]] std::uint8_t* row(std::uint32_t y) { return bits_.data() + y * stride_; }
  [[nodiscard]] bool get(std::uint32_t x, std::uint32_t y) const { return (row(y)[x >> 3] >> (7 - (x & 7))) & 1; }
  void set(std::uint32_t x, std::uint32_t y, bool white);
  /// Same size and same pixels (padding bits ignored).
  bool operator==(const bitmap& o) const;

 private:
  std::uint32_t width_ = 0, height_ = 0;
  std::size_t stride_ = 0;
  std::vector<std::uint8_t> bits_;
};

/// Append the runs of one row of `width` bits to `out` (the seed's compress_row).
void encode_row(const std::uint8_t* row, std::uint32_t width, std::string& out);
/// The whole file. REQUIRES sides <= max_side.
std::string encode(const bitmap& image);

/// Decode a file. Errors name the byte offset and the problem: a header cut
/// short, a zero-length run, a run that overflows its row, data that ends
/// before the last row, bytes after it. Before allocating, the declared size
/// is checked against the data (each row needs at least ceil(width/127)
/// bytes), so a small file cannot claim a huge image.
result<bitmap> decode(std::string_view data);

/// How a file became 1-bit, for the user.
enum class source_kind { one_bit, converted };

/// Read an image as 1 bit. 1-bit BMPs are read as they are (FreeImage, which
/// keeps the rows packed): a bit is white when its palette colour is light.
/// Anything else libvips reads is turned to greyscale and thresholded at 128
/// (no dithering: Pillow's convert('1') dithers, so only 1-bit input is
/// byte-identical to the seed). Fails (naming the file) when unreadable, not
/// an image, or larger than max_side.
result<bitmap> load(const std::string& path, source_kind* how = nullptr);
/// Write a 1-bit BMP (black/white palette) atomically.
status save_bmp(const bitmap& image, const std::string& path);

/// What a file operation did: the image's size and the compressed size.
struct file_stats {
  std::uint32_t width = 0, height = 0;
  std::uint64_t rle_bytes = 0;
  [[nodiscard]] std::uint64_t pixels() const { return std::uint64_t{width} * height; }
};

/// Compress `in` (any image, see load) into `out` with rows encoded on
/// `rows` (the seed's compress_in_executor).
result<file_stats> compress_file(const std::string& in, const std::string& out, core::executor& rows);
/// Decompress `in` into a BMP at `out`.
result<file_stats> decompress_file(const std::string& in, const std::string& out);

inline constexpr const char* rows_task = "rle.rows";
inline constexpr const char* file_task = "rle.compress_file";
/// Payload of rle.compress_file: compress one file with a row executor of its own.
std::string encode_file_call(const std::string& in, const std::string& out, core::executor_kind row_kind,
                             std::size_t row_jobs);
/// The task's result.
file_stats decode_file_result(std::string_view bytes);
void register_tasks();

}  // namespace scalekit::jobs::rle

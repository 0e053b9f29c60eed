// RLE files: images in (1-bit BMPs by hand, bmp.h; the rest through the
// converter scalekit-heavy installs), BMPs out, and the task that spreads a
// file's rows.

#include "scalekit/jobs/rle/rle.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "rle/tasks.h"
#include "scalekit/core/atomic_file.h"
#include "scalekit/core/input_file.h"
#include "scalekit/core/wire.h"
#include "scalekit/jobs/rle/bmp.h"

namespace scalekit::jobs::rle {

namespace {

constexpr std::uint64_t max_rle_file = std::uint64_t{1} << 30;  // 1 GiB: more than any 65535x65535 image needs
constexpr std::size_t row_spare = 8;  // readable bytes past a row's end: the encoder reads whole words

converter installed_converter = nullptr;

status too_large(const std::string& path, std::uint32_t w, std::uint32_t h) {
  return status::too_large("'" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                           "; the RLE format holds at most " + std::to_string(max_side) + " on a side");
}

status cannot_read(const std::string& path, const std::string& why) {
  return status::io_error("cannot read '" + path + "': " + why);
}

// Up to n bytes at offset `at`, fewer only at the end of the file. Returns how
// many, or the error.
result<std::size_t> read_at(const core::input_file& f, char* dst, std::size_t n, std::uint64_t at) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(f.fd(), dst + got, n - got, static_cast<off_t>(at + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return cannot_read(f.path(), core::path_error_words(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// The headers of an opened file, as parse_bmp() reads them; errors name the file.
result<bmp_info> read_bmp_info(const core::input_file& f) {
  char head[bmp_head_bytes];
  auto n = read_at(f, head, sizeof head, 0);
  if (!n.ok()) return n.error();
  auto info = parse_bmp(std::string_view(head, *n), f.size());
  if (!info.ok()) return status::corruption("cannot read '" + f.path() + "': " + info.error().message());
  return info;
}

// A 1-bit BMP's sides within the format, and its pixels within the file.
status check_one_bit(const core::input_file& f, const bmp_info& info) {
  if (info.width > max_side || info.height > max_side) return too_large(f.path(), info.width, info.height);
  if (info.bytes_needed > f.size())
    return status::corruption("cannot read '" + f.path() + "': a 1-bit BMP cut short: its pixels need " +
                              std::to_string(info.bytes_needed) + " bytes, the file has " + std::to_string(f.size()));
  return {};
}

status cut_short(const core::input_file& f) {
  return status::corruption("cannot read '" + f.path() + "': the file got shorter while it was read");
}

// The 1-bit image of a BMP whose palette is one colour.
bitmap one_colour(const bmp_info& info) {
  bitmap b(info.width, info.height);
  if (info.palette == bmp_info::colours::all_white)
    for (std::uint32_t y = 0; y < b.height(); ++y) std::memset(b.row(y), 0xFF, b.stride());
  return b;
}

// The whole 1-bit BMP `f` as a bitmap. REQUIRES check_one_bit() passed.
result<bitmap> read_one_bit(const core::input_file& f, const bmp_info& info) {
  if (info.palette == bmp_info::colours::all_black || info.palette == bmp_info::colours::all_white)
    return one_colour(info);
  std::string file(info.bytes_needed, '\0');
  auto n = read_at(f, file.data(), file.size(), 0);
  if (!n.ok()) return n.error();
  if (*n != file.size()) return cut_short(f);
  bitmap out(info.width, info.height);
  const bool invert = info.palette == bmp_info::colours::inverted;
  for (std::uint32_t y = 0; y < info.height; ++y) {
    const std::uint8_t* src = bmp_row(file, info, y);
    std::uint8_t* dst = out.row(y);
    if (invert) {
      for (std::size_t i = 0; i < out.stride(); ++i) dst[i] = static_cast<std::uint8_t>(~src[i]);
    } else {
      std::memcpy(dst, src, out.stride());
    }
  }
  return out;
}

result<bitmap> convert(const std::string& path, source_kind* how) {
  if (installed_converter == nullptr)
    return cannot_read(path, "not a 1-bit BMP, and this program reads no other images (scalekit-heavy does)");
  if (how) *how = source_kind::converted;
  return installed_converter(path);
}

}  // namespace

void set_converter(converter c) { installed_converter = c; }

bool has_converter() { return installed_converter != nullptr; }

result<bitmap> load(const std::string& path, source_kind* how) {
  // open_input refuses a FIFO or a device before it is read: it would block,
  // or never end.
  auto f = core::open_input(path);
  if (!f.ok()) return f.error();
  auto info = read_bmp_info(*f);
  if (!info.ok()) return info.error();
  if (!info->one_bit) return convert(path, how);
  if (status s = check_one_bit(*f, *info); !s.ok()) return s;
  if (how) *how = source_kind::one_bit;
  return read_one_bit(*f, *info);
}

bool needs_converter(const std::string& path) {
  auto f = core::open_input(path);
  if (!f.ok()) return false;
  auto info = read_bmp_info(*f);
  return info.ok() && !info->one_bit;
}

status save_bmp(const bitmap& image, const std::string& path) {
  if (image.width() == 0 || image.height() == 0)
    return status::invalid_argument("cannot write '" + path + "': a " + std::to_string(image.width()) + "x" +
                                    std::to_string(image.height()) +
                                    " image has no pixels, and a BMP needs at least one");
  const std::string data = bmp_file(image);
  auto file = core::atomic_file::create(path);
  if (!file.ok()) return file.error();
  if (status s = file->write(data.data(), data.size()); !s.ok()) return s;
  return file->commit();
}

namespace {

// Payload of rle.rows: width, row count, stride, then the packed rows and 8
// spare bytes (the encoder reads whole words past a row's end).
std::string encode_rows_call(const bitmap& image, std::uint32_t y0, std::uint32_t y1) {
  core::wire_writer w;
  w.put(image.width()).put(y1 - y0).put<std::uint64_t>(image.stride());
  w.str().append(reinterpret_cast<const char*>(image.row(y0)), (y1 - y0) * image.stride());
  w.str().append(row_spare, '\0');
  return w.take();
}

// Payload of rle.file_rows: the BMP's path, its device, inode and size (the
// file the job opened), and the band of image rows y0..y1 to encode.
std::string file_rows_call(const core::input_file& f, std::uint32_t y0, std::uint32_t y1) {
  return core::wire_writer()
      .put_string(f.path())
      .put<std::uint64_t>(f.id().dev)
      .put<std::uint64_t>(f.id().ino)
      .put<std::uint64_t>(f.size())
      .put(y0)
      .put(y1)
      .take();
}

// Buffers for bands' runs, recycled: compress_file gives each band's buffer
// back once the file has its runs, and a later band writes into it, so its
// pages are made (faulted in) once rather than for every band. At most
// `kept` wait here, none reserved for more than `largest_kept` bytes; the
// rest are freed. Never destroyed, so that a process does not free them one
// by one at exit. Thread-safe.
class band_buffers {
 public:
  std::string take() {
    std::scoped_lock lock(mutex_);
    if (free_.empty()) return {};
    std::string s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void give_back(std::string s) {
    if (s.capacity() > largest_kept) return;  // a huge image's: not held for the process's life
    s.clear();
    std::scoped_lock lock(mutex_);
    if (free_.size() < kept) free_.push_back(std::move(s));
  }

 private:
  static constexpr std::size_t kept = 4, largest_kept = std::size_t{16} << 20;
  std::mutex mutex_;
  std::vector<std::string> free_;  // guarded by mutex_
};

band_buffers& recycled() {
  static auto* buffers = new band_buffers;
  return *buffers;
}

// The runs of image rows y0..y1 of a 1-bit BMP, read from the file in pieces
// of about 64 KiB into a buffer each thread keeps: the rows are never copied
// whole, and the memory touched stays small. REQUIRES check_one_bit()
// passed, palette as_stored or inverted.
status encode_file_rows(const core::input_file& f, const bmp_info& info, std::uint32_t y0, std::uint32_t y1,
                        std::string& out) {
  const std::uint64_t stride = info.stride;
  const auto piece = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, (std::uint64_t{1} << 16) / stride));
  thread_local std::vector<std::uint8_t> buffer;
  // A row has at most `width` runs: with room for all of them reserved, the
  // runs are written once, never copied to a grown buffer (pages past what
  // is written are never touched, so never made).
  out.reserve(out.size() + std::size_t{y1 - y0} * info.width + row_bytes_max(0));
  const bool up = info.row_step < 0, invert = info.palette == bmp_info::colours::inverted;
  for (std::uint32_t y = y0; y < y1; y += piece) {
    const std::uint32_t k = std::min(piece, y1 - y);
    // The piece's lowest byte: its first row top-down, its last bottom-up.
    const std::uint64_t at = up ? info.first_row - std::uint64_t{y + k - 1} * stride : info.first_row + y * stride;
    const std::size_t n = k * stride, want = std::min<std::uint64_t>(n, info.bytes_needed - at);
    if (buffer.size() < n + row_spare) buffer.resize(n + row_spare);
    auto got = read_at(f, reinterpret_cast<char*>(buffer.data()), want, at);
    if (!got.ok()) return got.error();
    if (*got != want) return cut_short(f);
    // Zeros where the last stored row lacks its padding, and the spare bytes.
    std::memset(buffer.data() + want, 0, n + row_spare - want);
    const std::ptrdiff_t step = up ? -static_cast<std::ptrdiff_t>(stride) : static_cast<std::ptrdiff_t>(stride);
    encode_rows(buffer.data() + (up ? k - 1 : 0) * stride, step, k, info.width, out, invert);
  }
  return {};
}

core::bytes file_rows_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const std::string path(in.get_string());
  const core::file_id id{static_cast<dev_t>(in.get<std::uint64_t>()), static_cast<ino_t>(in.get<std::uint64_t>())};
  const auto size = in.get<std::uint64_t>();
  const auto y0 = in.get<std::uint32_t>(), y1 = in.get<std::uint32_t>();
  in.expect_end();
  auto f = core::open_input(path);
  if (!f.ok()) throw std::runtime_error(f.error().message());
  if (f->id() != id || f->size() != size)
    throw std::runtime_error(cut_short(*f).message() + " (replaced or resized while it was read)");
  auto info = read_bmp_info(*f);
  if (!info.ok()) throw std::runtime_error(info.error().message());
  if (!info->one_bit || info->height < y1 || y0 > y1)
    throw core::wire_error("rle.file_rows: not the band of a 1-bit BMP");
  if (status s = check_one_bit(*f, *info); !s.ok()) throw std::runtime_error(s.message());
  std::string out = recycled().take();
  if (status s = encode_file_rows(*f, *info, y0, y1, out); !s.ok()) throw std::runtime_error(s.message());
  return out;
}

core::bytes rows_task_body(std::string_view payload) {
  core::wire_reader in(payload);
  const auto width = in.get<std::uint32_t>();
  const auto rows = in.get<std::uint32_t>();
  const auto stride = in.get<std::uint64_t>();
  if (stride != (std::uint64_t{width} + 7) / 8 || in.remaining() != rows * stride + row_spare)
    throw core::wire_error("rle.rows: rows do not match their size");
  const auto* bits = reinterpret_cast<const std::uint8_t*>(payload.data() + (payload.size() - in.remaining()));
  std::string out = recycled().take();
  out.reserve(std::size_t{rows} * width + row_bytes_max(0));  // at most a byte a pixel: never moved
  if (rows > 0) encode_rows(bits, static_cast<std::ptrdiff_t>(stride), rows, width, out);
  return out;
}

}  // namespace

result<file_stats> compress_file(const std::string& in, const std::string& out, core::executor& rows) {
  const std::string inputs[] = {in};
  if (status s = core::check_output(out, inputs); !s.ok()) return s;  // before a byte is written
  auto f = core::open_input(in);
  if (!f.ok()) return f.error();
  auto info = read_bmp_info(*f);
  if (!info.ok()) return info.error();
  // Anything but a 1-bit BMP with a black and a white entry is made a bitmap first.
  std::optional<bitmap> image;
  if (!info->one_bit) {
    auto converted = convert(in, nullptr);
    if (!converted.ok()) return converted.error();
    image = std::move(converted).value();
  } else if (status s = check_one_bit(*f, *info); !s.ok()) {
    return s;
  } else if (info->palette == bmp_info::colours::all_black || info->palette == bmp_info::colours::all_white) {
    image = one_colour(*info);
  }
  const std::uint32_t width = image ? image->width() : info->width;
  const std::uint32_t height = image ? image->height() : info->height;

  auto file = core::atomic_file::create(out);
  if (!file.ok()) return file.error();
  // Bands of rows, a few per worker: the seed sends one row per call; rows of
  // a few hundred bytes are too small to be worth a hand-off each.
  const std::uint32_t bands = std::min<std::uint32_t>(height, static_cast<std::uint32_t>(rows.concurrency() * 4));
  std::vector<core::bytes> payloads;
  for (std::uint32_t k = 0; k < bands; ++k) {
    const std::uint32_t y0 = static_cast<std::uint32_t>(std::uint64_t{height} * k / bands);
    const std::uint32_t y1 = static_cast<std::uint32_t>(std::uint64_t{height} * (k + 1) / bands);
    if (y1 == y0) continue;
    payloads.push_back(image ? encode_rows_call(*image, y0, y1) : file_rows_call(*f, y0, y1));
  }
  const std::uint8_t header[4] = {static_cast<std::uint8_t>(width & 0xFF), static_cast<std::uint8_t>(width >> 8),
                                  static_cast<std::uint8_t>(height & 0xFF), static_cast<std::uint8_t>(height >> 8)};
  if (status s = file->write(header, 4); !s.ok()) return s;
  std::uint64_t size = 4;
  status failed;
  rows.map_streaming(image ? detail::rows_task : detail::file_rows_task, std::move(payloads),
                     [&](std::size_t, result<core::bytes>& r) {
                       if (!failed.ok()) return;
                       if (!r.ok()) {
                         failed = r.error();
                         return;
                       }
                       size += r->size();
                       failed = file->write(r->data(), r->size());
                       recycled().give_back(std::move(r).value());
                     });
  if (!failed.ok()) return failed;
  if (status s = file->commit(); !s.ok()) return s;
  return file_stats{width, height, size};
}

result<file_stats> decompress_file(const std::string& in, const std::string& out) {
  const std::string inputs[] = {in};
  if (status s = core::check_output(out, inputs); !s.ok()) return s;  // before a byte is written
  auto file = core::open_input(in);                                   // a FIFO or a device is refused before it is read
  if (!file.ok()) return file.error();
  if (file->size() > max_rle_file)
    return status::too_large("'" + in + "' is " + std::to_string(file->size()) + " bytes; an RLE file is at most " +
                             std::to_string(max_rle_file));
  std::string data;
  if (status s = file->read_all(data, max_rle_file); !s.ok()) return s;
  auto image = decode(data);
  if (!image.ok()) return status::corruption("'" + in + "': " + image.error().message());
  if (image->width() == 0 || image->height() == 0)
    return status::corruption("'" + in + "': the header says " + std::to_string(image->width()) + "x" +
                              std::to_string(image->height()) +
                              ": an image without pixels, which a BMP cannot hold (nothing written)");
  if (status s = save_bmp(image.value(), out); !s.ok()) return s;
  return file_stats{image->width(), image->height(), data.size()};
}

void detail::register_rows_task() {
  core::task_registry::global().add(detail::rows_task, rows_task_body);
  core::task_registry::global().add(detail::file_rows_task, file_rows_task_body);
}

}  // namespace scalekit::jobs::rle

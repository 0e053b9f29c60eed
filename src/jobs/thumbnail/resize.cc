// Resampling for thumbnails. The sizes here are small after the decoder's
// own shrink (a JPEG arrives at most 16x its thumbnail), so plain loops do;
// the box average over a large PNG sums whole rows, which the compiler
// vectorizes.

#include "resize.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace scalekit::jobs::thumbnail::detail {

size2 fit_in_box(std::uint32_t w, std::uint32_t h, std::uint32_t box_w, std::uint32_t box_h) {
  const double shrink = std::max({static_cast<double>(w) / box_w, static_cast<double>(h) / box_h, 1.0});
  const auto side = [&](std::uint32_t s) {
    return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::floor(s / shrink + 0.5)));
  };
  return {side(w), side(h)};
}

std::uint32_t box_factor(std::uint32_t from, std::uint32_t to) {
  return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(static_cast<double>(from) / to / 2));
}

box_rows::box_rows(std::uint32_t width, std::uint32_t channels, std::uint32_t kx, std::uint32_t ky,
                   std::uint32_t height, raster& out)
    : out_(out), kx_(kx), ky_(ky), channels_(channels), sum_(std::size_t{width} * channels) {
  out.width = width / kx;
  out.height = height / ky;
  out.channels = channels;
  out.data.resize(std::size_t{out.width} * out.height * channels);
}

void box_rows::add(const std::uint8_t* row) {
  const std::uint32_t oy = y_ / ky_;
  ++y_;
  if (oy >= out_.height) return;  // the partial block at the bottom
  const std::size_t c = channels_, n_in = sum_.size();
  for (std::size_t i = 0; i < n_in; ++i) sum_[i] += row[i];  // vectorized
  if (y_ % ky_ != 0) return;
  const std::uint32_t n = kx_ * ky_;
  std::uint8_t* dst = out_.data.data() + std::size_t{oy} * out_.width * c;
  for (std::uint32_t x = 0; x < out_.width; ++x)
    for (std::size_t ch = 0; ch < c; ++ch) {
      std::uint32_t s = 0;
      for (std::uint32_t i = 0; i < kx_; ++i) s += sum_[(std::size_t{x} * kx_ + i) * c + ch];
      dst[x * c + ch] = static_cast<std::uint8_t>((s + n / 2) / n);
    }
  std::fill(sum_.begin(), sum_.end(), 0);
}

namespace {

// The box average: k_x by k_y blocks, the partial ones at the far edges left out.
raster box_shrink(const raster& in, std::uint32_t kx, std::uint32_t ky) {
  raster out;
  box_rows rows(in.width, in.channels, kx, ky, in.height, out);
  const std::size_t stride = std::size_t{in.width} * in.channels;
  for (std::uint32_t y = 0; y < out.height * ky; ++y) rows.add(in.data.data() + y * stride);
  return out;
}

double lanczos3(double t) {
  if (t == 0) return 1;
  if (t <= -3 || t >= 3) return 0;
  const double pt = std::numbers::pi * t;
  return 3 * std::sin(pt) * std::sin(pt / 3) / (pt * pt);
}

// Per output position: the source indices (edge-clamped) and their weights.
struct taps {
  std::size_t per = 0;
  std::vector<std::uint32_t> index;
  std::vector<float> weight;
};

taps make_taps(std::uint32_t in, std::uint32_t out) {
  const double scale = static_cast<double>(in) / out, stretch = std::max(scale, 1.0), support = 3 * stretch;
  taps t;
  t.per = static_cast<std::size_t>(2 * std::ceil(support) + 1);
  t.index.resize(t.per * out);
  t.weight.resize(t.per * out);
  for (std::uint32_t o = 0; o < out; ++o) {
    const double centre = (o + 0.5) * scale - 0.5;
    const long first = static_cast<long>(std::floor(centre - support)) + 1;
    double total = 0;
    for (std::size_t k = 0; k < t.per; ++k) {
      const long x = first + static_cast<long>(k);
      const double w = lanczos3((x - centre) / stretch);
      t.index[o * t.per + k] = static_cast<std::uint32_t>(std::clamp<long>(x, 0, static_cast<long>(in) - 1));
      t.weight[o * t.per + k] = static_cast<float>(w);
      total += w;
    }
    for (std::size_t k = 0; k < t.per; ++k)
      t.weight[o * t.per + k] = static_cast<float>(t.weight[o * t.per + k] / total);
  }
  return t;
}

raster lanczos(const raster& in, std::uint32_t width, std::uint32_t height) {
  const std::size_t c = in.channels;
  const taps tx = make_taps(in.width, width), ty = make_taps(in.height, height);
  // Across first, into floats, then down.
  std::vector<float> across(std::size_t{in.height} * width * c);
  for (std::uint32_t y = 0; y < in.height; ++y) {
    const std::uint8_t* row = in.data.data() + std::size_t{y} * in.width * c;
    float* dst = across.data() + std::size_t{y} * width * c;
    for (std::uint32_t x = 0; x < width; ++x)
      for (std::size_t ch = 0; ch < c; ++ch) {
        float s = 0;
        for (std::size_t k = 0; k < tx.per; ++k)
          s += tx.weight[x * tx.per + k] * row[std::size_t{tx.index[x * tx.per + k]} * c + ch];
        dst[x * c + ch] = s;
      }
  }
  raster out;
  out.width = width;
  out.height = height;
  out.channels = in.channels;
  const std::size_t stride = std::size_t{width} * c;
  out.data.resize(stride * height);
  for (std::uint32_t y = 0; y < height; ++y) {
    std::uint8_t* dst = out.data.data() + y * stride;
    for (std::size_t i = 0; i < stride; ++i) {
      float s = 0;
      for (std::size_t k = 0; k < ty.per; ++k)
        s += ty.weight[y * ty.per + k] * across[ty.index[y * ty.per + k] * stride + i];
      dst[i] = s <= 0 ? 0 : s >= 255 ? 255 : static_cast<std::uint8_t>(s + 0.5f);
    }
  }
  return out;
}

}  // namespace

raster resize(const raster& in, std::uint32_t width, std::uint32_t height) {
  const std::uint32_t kx = box_factor(in.width, width), ky = box_factor(in.height, height);
  if (kx == 1 && ky == 1) return in.width == width && in.height == height ? in : lanczos(in, width, height);
  return lanczos(box_shrink(in, kx, ky), width, height);
}

raster orient(raster in, int orientation) {
  if (orientation <= 1 || orientation > 8) return in;
  const std::uint32_t w = in.width, h = in.height, c = in.channels;
  const bool swap = orientation >= 5;
  raster out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.channels = c;
  out.data.resize(in.data.size());
  for (std::uint32_t y = 0; y < out.height; ++y)
    for (std::uint32_t x = 0; x < out.width; ++x) {
      std::uint32_t sx = x, sy = y;  // where the upright pixel (x, y) is stored
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4: sy = h - 1 - y; break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      const std::uint8_t* src = in.data.data() + (std::size_t{sy} * w + sx) * c;
      std::copy(src, src + c, out.data.data() + (std::size_t{y} * out.width + x) * c);
    }
  return out;
}

}  // namespace scalekit::jobs::thumbnail::detail

"""Image processing behind the engine's six utility endpoints (``/v1/utils/*``).

One module per utility (``clarify``, ``face_restore``, ``face_swap``, ``remove_background``,
``upscale``, ``prompt_extract``), beside what they share: ``images`` (decoding with
``open_image``, image/array plumbing, common filters), ``faces`` (detection) and ``errors``.

Plain OpenCV + Pillow + numpy: no Django, no network, no model weights. Every public
function takes a Pillow image in any mode (converted to RGB/RGBA first), never changes it,
and is deterministic (the same input gives byte-identical output). Bad input ends in a
:class:`UtilityError` whose ``str()`` is a message fit to show a user.

=================================  ===============================================  =======
Function / option                  Method                                           1024^2
=================================  ===============================================  =======
clarify "Image Denoising"          non-local means (fastNlMeansDenoisingColored),    652 ms
                                   strength from a noise estimate
clarify "Image Debluring (REDS)"   regularised deconvolution of luma; straight        73 ms
                                   motion found blindly (cepstrum), short kernels
clarify "Image Debluring (GoPro)"  same, longer camera-shake kernels, stronger        78 ms
                                   regularisation
face_restore                       Haar faces; NL-means + unsharp + CLAHE inside     399 ms
                                   a feathered ellipse (no face: light enhance)
face_swap                          Haar faces; align, LAB colour transfer,           173 ms
                                   seamlessClone through an elliptical mask
remove_background                  grabCut on a 256-px copy (border = background,    239 ms
                                   face prior) + fast guided-filter refinement
upscale "Real-ESRGAN" (x4)         noise-thresholded unsharp, Lanczos, edge          216 ms
                                   enhance (output 4096^2)
upscale "Animagine Redefine" (x4)  bilateral, Lanczos, shock-filter line edges       296 ms
upscale "Openjourney Redefine"     CLAHE on L + light unsharp, Lanczos x2             50 ms
upscale "EpicRealism Natural"      bicubic x2, gentle unsharp, seeded film grain     148 ms
extract_prompt                     colour names, mood, light, faces, horizon,        128 ms
                                   style hints (an embedded prompt wins)
=================================  ===============================================  =======

Timings: median of 3 runs on a 1024 x 1024 RGB photograph (the astronaut fixture scaled
up), ``time.perf_counter``, warm (cascades loaded), on a shared 2-core development
machine with OpenCV 4.14 / numpy 2.4, while other work ran on it (load ~1.5): repeated
runs varied by up to ~40 % (the denoiser ranged 0.46-1.0 s). Cost grows with the pixel
count, except grabCut, which always works on a 256-px copy; the NL-means denoiser is the
slowest (about 0.5-0.9 s per megapixel here).

Determinism: grabCut's k-means++ start draws on OpenCV's per-thread RNG, so it is
re-seeded before each call; the film grain uses a fixed numpy seed; nothing else is random.
"""

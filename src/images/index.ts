export { createImageTools, type ImageToolsOptions } from './image-tools.ts';
export { composeGrid, gridColumns, gridFormat, gridLayout, GRID_DEFAULTS, type GridFormat, type GridLayout, type GridOptions } from './grid.ts';
export { fitToBytes, ImageFitError, type FittedImage } from './fit.ts';
export { makePreview } from './preview.ts';
export { probeImage, ImageDecodeError, type ProbedImage } from './probe.ts';
export { sniffImageType, type ImageMime } from './sniff.ts';

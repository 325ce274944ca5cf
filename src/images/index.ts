export { createImageTools, type ImageToolsOptions } from './image-tools.ts';
export { composeGrid, gridColumns, gridLayout, GRID_DEFAULTS, type GridLayout, type GridOptions } from './grid.ts';
export { fitToBytes, ImageFitError, type FittedImage } from './fit.ts';
export { makePreview } from './preview.ts';
export { probeImage, ImageDecodeError, type ProbedImage } from './probe.ts';
export { sniffImageType, type ImageMime } from './sniff.ts';

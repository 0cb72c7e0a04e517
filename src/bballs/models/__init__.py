"""Models by task: the specification's Table 2 CNN and Table 3 U-Net (spec), the Part 1/2
improvements (improved, unet_variants) and the second assignment's autoencoders, image-to-image
networks and generators (autoencoders, image_to_image, generative)."""

// The look, for every page: Utrecht's design tokens and component CSS,
// then our layout (style.css).
import '@utrecht/design-tokens/dist/index.css';
import '@utrecht/component-library-css/dist/index.css';
import './style.css';
